//! Batch normalization in training mode as two CPU custom ops (statistics,
//! then normalization with a hand-written backward), for candle-nn's
//! [`BatchNorm`] layers: candle-nn's own training forward makes about fifteen
//! tensor ops (transposes, copies, broadcasts) per call and as many again in
//! backward, which cost more than the convolutions of the small CNN.
//!
//! Same function as candle-nn's `forward_train`: per channel `c` (dim 1,
//! over the batch and every dim after it), `μ_c` and the biased variance
//! `σ²_c`; `y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c`; running statistics
//! updated as `r ← (1 − m)·r + m·μ` and `v ← (1 − m)·v + m·σ²·N/(N − 1)`.
//! The sums run in f64, channel by channel in a fixed order.

use candle_core::{
    CpuStorage, CustomOp3, DType, Layout, ModuleT, Result, Shape, Tensor, Var, WithDType, bail,
};

use crate::kernels::cpu_kernel::{CpuKernel, no_backward_cpu_op, run_cpu_kernel};
use crate::kernels::element::Element;
use candle_nn::{BatchNorm, BatchNormConfig};
use rayon::prelude::*;

/// `bn.forward_t(x, train)` for a layer built with `config`, through the
/// fused ops when training on the CPU in f32 or f64 with an affine layer
/// that removes the mean (every batch norm of the thesis's models);
/// candle-nn's path otherwise.
pub fn batch_norm_t(
    bn: &BatchNorm,
    config: &BatchNormConfig,
    x: &Tensor,
    train: bool,
) -> Result<Tensor> {
    let fused = train
        && config.affine
        && config.remove_mean
        && x.device().is_cpu()
        && x.rank() >= 2
        && matches!(x.dtype(), DType::F32 | DType::F64)
        && bn.weight_and_bias().is_some();
    if !fused {
        return bn.forward_t(x, train);
    }
    batch_norm_train(bn, x)
}

/// The training forward of an affine `bn` that removes the mean, through
/// the fused ops (see the module documentation); updates its running
/// statistics.
pub fn batch_norm_train(bn: &BatchNorm, x: &Tensor) -> Result<Tensor> {
    let Some((weight, bias)) = bn.weight_and_bias() else {
        bail!("batch_norm_train: the layer has no weight and bias");
    };
    let channels = bn.running_mean().dim(0)?;
    if x.rank() < 2 || x.dim(1)? != channels {
        bail!(
            "batch norm of {channels} channels got an input of shape {:?}",
            x.dims()
        );
    }
    let x = x.contiguous()?;
    let n = x.elem_count() / channels;
    if n < 2 {
        bail!("batch norm in training needs at least 2 values per channel, got {n}");
    }
    let moments = x.apply_op1_no_bwd(&ChannelMoments)?;
    let (mean, var) = (moments.get(0)?, moments.get(1)?);
    let m = bn.momentum();
    let running_mean = Var::from_tensor(bn.running_mean())?;
    let running_var = Var::from_tensor(bn.running_var())?;
    let rm =
        ((running_mean.as_tensor() * (1.0 - m))? + (mean.to_dtype(running_mean.dtype())? * m)?)?;
    let rv = ((running_var.as_tensor() * (1.0 - m))?
        + (var.to_dtype(running_var.dtype())? * (m * n as f64 / (n as f64 - 1.0)))?)?;
    running_mean.set(&rm)?;
    running_var.set(&rv)?;
    let affine = Tensor::stack(&[weight, bias], 0)?.to_dtype(x.dtype())?;
    x.apply_op3(&moments, &affine, BatchNormTrain { eps: bn.eps() })
}

/// Channel `c` of `x (B, C, S)` as its `B` runs of `S` values.
fn channel_runs<T>(x: &[T], c: usize, channels: usize, s: usize) -> impl Iterator<Item = &[T]> {
    x.chunks_exact(channels * s)
        .map(move |sample| &sample[c * s..(c + 1) * s])
}

/// `(channels C, values per sample and channel S)` of `x (B, C, ...)`.
fn channels_and_spread(l: &Layout) -> (usize, usize) {
    let dims = l.dims();
    (dims[1], dims[2..].iter().product())
}

/// `x (B, C, ...) ↦ (2, C)`: the mean and the biased variance per channel.
struct ChannelMoments;

fn moments<T: WithDType>(x: &[T], channels: usize, s: usize) -> Vec<T> {
    let n = (x.len() / channels.max(1)) as f64;
    let stats: Vec<(f64, f64)> = (0..channels)
        .into_par_iter()
        .map(|c| {
            let sum: f64 = channel_runs(x, c, channels, s)
                .flatten()
                .map(|v| v.to_f64())
                .sum();
            let mean = sum / n;
            let sq: f64 = channel_runs(x, c, channels, s)
                .flatten()
                .map(|v| (v.to_f64() - mean).powi(2))
                .sum();
            (mean, sq / n)
        })
        .collect();
    stats
        .iter()
        .map(|&(m, _)| T::from_f64(m))
        .chain(stats.iter().map(|&(_, v)| T::from_f64(v)))
        .collect()
}

impl CpuKernel for ChannelMoments {
    const NAME: &'static str = "sgbn-batch-norm-moments";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let (c, spread) = channels_and_spread(layouts[0]);
        Ok((moments(inputs[0], c, spread), Shape::from((2, c))))
    }
}

no_backward_cpu_op!(ChannelMoments, 1);

/// `(x (B, C, ...), moments (2, C), affine (2, C) = [γ; β]) ↦ y`; backward
/// to `x` (through the batch statistics too) and to `[γ; β]`.
struct BatchNormTrain {
    eps: f64,
}

impl BatchNormTrain {
    /// Per channel `(μ, 1/√(σ² + ε), γ, β)`.
    fn channel_params<T: WithDType>(&self, moments: &[T], affine: &[T]) -> Vec<[f64; 4]> {
        let c = moments.len() / 2;
        (0..c)
            .map(|i| {
                [
                    moments[i].to_f64(),
                    1.0 / (moments[c + i].to_f64() + self.eps).sqrt(),
                    affine[i].to_f64(),
                    affine[c + i].to_f64(),
                ]
            })
            .collect()
    }

    fn forward<T: WithDType>(&self, x: &[T], moments: &[T], affine: &[T], s: usize) -> Vec<T> {
        let params = self.channel_params(moments, affine);
        let c = params.len();
        let mut y = vec![T::zero(); x.len()];
        y.par_chunks_mut((c * s).max(1))
            .zip(x.par_chunks((c * s).max(1)))
            .for_each(|(y_b, x_b)| {
                for ((y_c, x_c), &[mean, inv_std, gamma, beta]) in y_b
                    .chunks_mut(s.max(1))
                    .zip(x_b.chunks(s.max(1)))
                    .zip(&params)
                {
                    let k = gamma * inv_std;
                    for (o, &v) in y_c.iter_mut().zip(x_c) {
                        *o = T::from_f64((v.to_f64() - mean) * k + beta);
                    }
                }
            });
        y
    }

    /// `dx` (when `need_x`) followed by `[dγ; dβ]`.
    fn backward<T: WithDType>(
        &self,
        x: &[T],
        dy: &[T],
        packed: &[T],
        s: usize,
        need_x: bool,
    ) -> Vec<T> {
        let c = packed.len() / 4;
        let params = self.channel_params(&packed[..2 * c], &packed[2 * c..]);
        let n = (x.len() / c.max(1)) as f64;
        // Per channel Σ dy and Σ dy·x̂, in a fixed order.
        let sums: Vec<(f64, f64)> = (0..c)
            .into_par_iter()
            .map(|i| {
                let [mean, inv_std, _, _] = params[i];
                channel_runs(dy, i, c, s)
                    .flatten()
                    .zip(channel_runs(x, i, c, s).flatten())
                    .fold((0.0, 0.0), |(a, b), (g, v)| {
                        let g = g.to_f64();
                        (a + g, b + g * (v.to_f64() - mean) * inv_std)
                    })
            })
            .collect();
        let mut out = vec![T::zero(); if need_x { x.len() } else { 0 } + 2 * c];
        let (dx, daffine) = out.split_at_mut(if need_x { x.len() } else { 0 });
        if need_x {
            dx.par_chunks_mut((c * s).max(1))
                .zip(
                    x.par_chunks((c * s).max(1))
                        .zip(dy.par_chunks((c * s).max(1))),
                )
                .for_each(|(dx_b, (x_b, dy_b))| {
                    for (((dx_c, x_c), dy_c), (&[mean, inv_std, gamma, _], &(sum_dy, sum_dyx))) in
                        dx_b.chunks_mut(s.max(1))
                            .zip(x_b.chunks(s.max(1)))
                            .zip(dy_b.chunks(s.max(1)))
                            .zip(params.iter().zip(&sums))
                    {
                        let k = gamma * inv_std / n;
                        for ((o, &v), &g) in dx_c.iter_mut().zip(x_c).zip(dy_c) {
                            let x_hat = (v.to_f64() - mean) * inv_std;
                            *o = T::from_f64(k * (n * g.to_f64() - sum_dy - x_hat * sum_dyx));
                        }
                    }
                });
        }
        for (i, &(sum_dy, sum_dyx)) in sums.iter().enumerate() {
            daffine[i] = T::from_f64(sum_dyx);
            daffine[c + i] = T::from_f64(sum_dy);
        }
        out
    }
}

impl CpuKernel for BatchNormTrain {
    const NAME: &'static str = "sgbn-batch-norm-train";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let (_, spread) = channels_and_spread(layouts[0]);
        let y = self.forward(inputs[0], inputs[1], inputs[2], spread);
        Ok((y, layouts[0].shape().clone()))
    }
}

impl CustomOp3 for BatchNormTrain {
    fn name(&self) -> &'static str {
        <Self as CpuKernel>::NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        run_cpu_kernel(self, &[(s1, l1), (s2, l2), (s3, l3)])
    }

    fn bwd(
        &self,
        x: &Tensor,
        moments: &Tensor,
        affine: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let need_x = x.track_op();
        if !need_x && !affine.track_op() {
            return Ok((None, None, None));
        }
        let packed = Tensor::cat(&[moments, &affine.detach()], 0)?;
        let out = x.apply_op3_no_bwd(
            &dy.contiguous()?,
            &packed,
            &BatchNormGrad {
                eps: self.eps,
                need_x,
            },
        )?;
        let c = moments.dim(1)?;
        let len = if need_x { x.elem_count() } else { 0 };
        let dx = need_x
            .then(|| out.narrow(0, 0, len)?.reshape(x.shape()))
            .transpose()?;
        let daffine = affine
            .track_op()
            .then(|| out.narrow(0, len, 2 * c)?.reshape((2, c)))
            .transpose()?;
        Ok((dx, None, daffine))
    }
}

/// `(x, dy, [μ; σ²; γ; β] (4, C)) ↦ dx (when needed) ++ [dγ; dβ]`, flat.
struct BatchNormGrad {
    eps: f64,
    need_x: bool,
}

impl CpuKernel for BatchNormGrad {
    const NAME: &'static str = "sgbn-batch-norm-grad";

    fn run<T: Element + WithDType>(
        &self,
        inputs: &[&[T]],
        layouts: &[&Layout],
    ) -> Result<(Vec<T>, Shape)> {
        let (_, spread) = channels_and_spread(layouts[0]);
        let op = BatchNormTrain { eps: self.eps };
        let out = op.backward(inputs[0], inputs[1], inputs[2], spread, self.need_x);
        let len = out.len();
        Ok((out, Shape::from(len)))
    }
}

no_backward_cpu_op!(BatchNormGrad, 3);
