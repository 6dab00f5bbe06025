//! The randomness of a graph's random operators (`RandomUniformLike`,
//! `RandomNormalLike`, `RandomUniform`, `RandomNormal`, `Bernoulli`), drawn
//! from the caller's seeded generator (the file's own `seed` attributes are
//! ignored: the same generator state gives the same draws, bit for bit), or
//! replayed from an earlier pass ([`crate::OnnxModel`]'s `fixed_at`).

use candle_core::{Device, Tensor};
use sgbn_estimators::{SeededRng, uniform_like};

use crate::Result;
use crate::node::Node;

/// Where a pass's random draws come from.
pub(crate) enum Draws<'a> {
    /// Fresh draws from `rng`, each uniform tensor also kept in `record`
    /// when given.
    Fresh {
        rng: &'a mut SeededRng,
        record: Option<&'a mut Vec<Tensor>>,
    },
    /// The uniform tensors of an earlier pass, in the order drawn.
    Replay { draws: &'a [Tensor], next: usize },
}

impl Draws<'_> {
    /// A tensor of `dims` of independent `U[0, 1)` draws, row-major.
    pub fn uniform(&mut self, node: &Node, dims: &[usize], device: &Device) -> Result<Tensor> {
        match self {
            Draws::Fresh { rng, record } => {
                let like = Tensor::zeros(dims, candle_core::DType::F32, device)?;
                let u = uniform_like(&like, &mut **rng).map_err(|e| node.error(e.to_string()))?;
                if let Some(r) = record {
                    r.push(u.clone());
                }
                Ok(u)
            }
            Draws::Replay { draws, next } => {
                let Some(u) = draws.get(*next) else {
                    return Err(node.error(
                        "the fixed randomness has fewer draws than this pass needs (the pass differs from the one it was drawn on)",
                    ));
                };
                if u.dims() != dims {
                    return Err(node.error(format!(
                        "the fixed randomness was drawn with shape {:?}, this pass needs {dims:?} (fix it on a batch of the same size)",
                        u.dims()
                    )));
                }
                *next += 1;
                Ok(u.clone())
            }
        }
    }

    /// Standard normal draws by Box–Muller from two uniform tensors:
    /// `sqrt(-2 ln(1 - u1)) · cos(2π u2)`.
    pub fn normal(&mut self, node: &Node, dims: &[usize], device: &Device) -> Result<Tensor> {
        let u1 = self.uniform(node, dims, device)?;
        let u2 = self.uniform(node, dims, device)?;
        let r = u1.affine(-1.0, 1.0)?.log()?.affine(-2.0, 0.0)?.sqrt()?;
        Ok(r.mul(&u2.affine(2.0 * std::f64::consts::PI, 0.0)?.cos()?)?)
    }
}
