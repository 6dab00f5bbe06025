//! im2col as an index: the patches of a convolution gathered by one
//! `index_select`, so that a convolution becomes one batched matmul.

use candle_core::{Device, Tensor};

use crate::{LayerError, Result};

/// Geometry of a 2-D convolution (square kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Input channels.
    pub in_channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
}

impl ConvGeometry {
    /// Output height.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Output width.
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Rows of the patch matrix: `in_channels · kernel²`.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel * self.kernel
    }

    /// Checks that the kernel fits and the stride is positive.
    pub fn validate(&self) -> Result<()> {
        if self.stride == 0 || self.kernel == 0 {
            return Err(LayerError::InvalidConfig {
                layer: "conv",
                why: "kernel and stride must be > 0".into(),
            });
        }
        if self.kernel > self.height + 2 * self.padding
            || self.kernel > self.width + 2 * self.padding
        {
            return Err(LayerError::InvalidConfig {
                layer: "conv",
                why: format!(
                    "kernel {} larger than the padded {}x{} input",
                    self.kernel, self.height, self.width
                ),
            });
        }
        Ok(())
    }

    /// The index into the flattened **padded** input of one channel group,
    /// ordered `(c, ki, kj, oi, oj)`: selecting it from `(B, C·Hp·Wp)` and
    /// reshaping to `(B, C·k·k, Ho·Wo)` gives the patch matrix.
    pub fn patch_index(&self, device: &Device) -> Result<Tensor> {
        self.validate()?;
        let (hp, wp) = (
            self.height + 2 * self.padding,
            self.width + 2 * self.padding,
        );
        let (ho, wo, k, s) = (
            self.out_height(),
            self.out_width(),
            self.kernel,
            self.stride,
        );
        let mut idx = Vec::with_capacity(self.patch_len() * ho * wo);
        for c in 0..self.in_channels {
            for ki in 0..k {
                for kj in 0..k {
                    for oi in 0..ho {
                        for oj in 0..wo {
                            let (i, j) = (oi * s + ki, oj * s + kj);
                            idx.push((c * hp * wp + i * wp + j) as u32);
                        }
                    }
                }
            }
        }
        let n = idx.len();
        Ok(Tensor::from_vec(idx, n, device)?)
    }

    /// The patch matrix of `x` `(B, C, H, W)`: `(B, C·k·k, Ho·Wo)`.
    pub fn patches(&self, x: &Tensor, index: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        if dims.len() != 4 || dims[1..] != [self.in_channels, self.height, self.width] {
            return Err(LayerError::BadInput {
                layer: "conv",
                expected: format!("(B, {}, {}, {})", self.in_channels, self.height, self.width),
                found: dims.to_vec(),
            });
        }
        let b = dims[0];
        let x = if self.padding > 0 {
            x.pad_with_zeros(2, self.padding, self.padding)?
                .pad_with_zeros(3, self.padding, self.padding)?
        } else {
            x.clone()
        };
        let flat = x.flatten_from(1)?;
        let cols = flat.index_select(index, 1)?;
        Ok(cols.reshape((b, self.patch_len(), self.out_height() * self.out_width()))?)
    }
}
