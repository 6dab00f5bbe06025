//! Adam (Kingma & Ba 2015) over candle variables, with savable state.

use std::cell::RefCell;

use candle_core::{DType, Device, Tensor, Var, backprop::GradStore};

use crate::{Result, TrainError, fused_adam::FusedAdamStep};

/// The moments of one variable.
#[derive(Debug)]
enum Moments {
    /// Interleaved `m, v` per element in host memory (CPU f32 variables,
    /// updated by the fused in-place step).
    Host(Vec<f32>),
    /// Tensors (any other device or dtype; the reference path).
    Tensors(Tensor, Tensor),
}

/// Adam's settings: the thesis uses learning rate 1e-3 (chapter 4), β
/// 0.9 / 0.999.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam over named variables; moments are created at the first step.
///
/// A variable without a gradient in a step is left unchanged (and its
/// moments too); use `GradientCoverage` to make sure that never happens by
/// accident.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    vars: Vec<(String, Var)>,
    moments: Vec<Option<Moments>>,
    step: u64,
    fused: bool,
}

impl Adam {
    /// An optimizer for `vars`.
    pub fn new(vars: Vec<(String, Var)>, config: AdamConfig) -> Result<Self> {
        let ok = config.lr.is_finite()
            && config.lr > 0.0
            && (0.0..1.0).contains(&config.beta1)
            && (0.0..1.0).contains(&config.beta2)
            && config.eps.is_finite()
            && config.eps > 0.0;
        if !ok {
            return Err(TrainError::InvalidConfig(format!(
                "Adam settings {config:?}"
            )));
        }
        let moments = vars.iter().map(|_| None).collect();
        Ok(Self {
            config,
            vars,
            moments,
            step: 0,
            fused: true,
        })
    }

    /// Whether CPU f32 variables use the fused in-place update (the default)
    /// or the reference path built from tensor ops. Both compute the same
    /// update (tested); the fused one allocates nothing and makes one pass.
    pub fn with_fused(mut self, fused: bool) -> Self {
        self.fused = fused;
        self
    }

    fn fusable(&self, var: &Var) -> bool {
        self.fused
            && matches!(var.device(), Device::Cpu)
            && var.dtype() == DType::F32
            && var.as_tensor().is_contiguous()
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// One update with the gradients in `grads`:
    /// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
    /// `w ← w − lr·m̂ / (sqrt(v̂) + ε)` with bias-corrected `m̂`, `v̂`.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        for i in 0..self.vars.len() {
            let var = self.vars[i].1.clone();
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // Gradients carry the backward graph, which references the whole
            // forward pass: moments built from them would keep every step's
            // graph alive (memory grows without bound). Detach.
            let g = g.detach();
            if self.fusable(&var) {
                let g = g.contiguous()?;
                let mut host = match self.moments[i].take() {
                    Some(Moments::Host(h)) => h,
                    Some(Moments::Tensors(m, v)) => interleave(&m, &v)?,
                    None => vec![0f32; 2 * var.elem_count()],
                };
                let op = FusedAdamStep {
                    moments: RefCell::new(&mut host),
                    beta1: c.beta1 as f32,
                    beta2: c.beta2 as f32,
                    one_minus_beta1: (1.0 - c.beta1) as f32,
                    one_minus_beta2: (1.0 - c.beta2) as f32,
                    lr: c.lr as f32,
                    bc1: bc1 as f32,
                    bc2: bc2 as f32,
                    eps: c.eps as f32,
                };
                var.as_tensor().inplace_op2(&g, &op)?;
                self.moments[i] = Some(Moments::Host(host));
                continue;
            }
            let g = &g;
            let (m, v) = match self.moments[i].take() {
                Some(moments) => {
                    let (m, v) = moments.tensors(var.as_tensor())?;
                    (
                        ((m * c.beta1)? + (g * (1.0 - c.beta1))?)?,
                        ((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?,
                    )
                }
                None => ((g * (1.0 - c.beta1))?, (g.sqr()? * (1.0 - c.beta2))?),
            };
            let denom = ((&v / bc2)?.sqrt()? + c.eps)?;
            let update = ((&m / bc1)? / denom)?;
            var.set(&(var.as_tensor().detach() - (update * c.lr)?)?)?;
            self.moments[i] = Some(Moments::Tensors(m.detach(), v.detach()));
        }
        Ok(())
    }

    /// The optimizer state as named tensors (`adam.m.<var>`, `adam.v.<var>`)
    /// and the step count, for checkpoints.
    pub fn state(&self) -> (Vec<(String, Tensor)>, u64) {
        let mut out = Vec::new();
        for ((name, var), moments) in self.vars.iter().zip(&self.moments) {
            if let Some(moments) = moments {
                // Converting host moments cannot fail for a well-formed
                // state; skip (and so restart them) rather than panic.
                if let Ok((m, v)) = moments.tensors(var.as_tensor()) {
                    out.push((format!("adam.m.{name}"), m));
                    out.push((format!("adam.v.{name}"), v));
                }
            }
        }
        (out, self.step)
    }

    /// Restores a state saved by [`Adam::state`]; `lookup` finds a tensor by
    /// name.
    pub fn restore(&mut self, step: u64, lookup: &dyn Fn(&str) -> Option<Tensor>) -> Result<()> {
        self.step = step;
        for ((name, var), moments) in self.vars.iter().zip(self.moments.iter_mut()) {
            *moments = match (
                lookup(&format!("adam.m.{name}")),
                lookup(&format!("adam.v.{name}")),
            ) {
                (Some(m), Some(v)) => {
                    let dims = var.as_tensor().dims();
                    // Moments of a dense weight saved in the other layout
                    // (`(in, out)` or column panels) are converted like the
                    // weight: the update is elementwise.
                    let fit = |t: Tensor| -> Result<Option<Tensor>> {
                        if t.dims() == dims {
                            return Ok(Some(t));
                        }
                        if !name.ends_with(".weight") {
                            return Ok(None);
                        }
                        sgbn_layers::convert_dense_weight(&t, dims).map_err(|e| {
                            TrainError::InvalidConfig(format!("optimizer state of {name}: {e}"))
                        })
                    };
                    let shape = m.dims().to_vec();
                    match (fit(m)?, fit(v)?) {
                        (Some(m), Some(v)) => Some(Moments::Tensors(m, v)),
                        _ => {
                            return Err(TrainError::InvalidConfig(format!(
                                "optimizer state of {name} has shape {shape:?}, the parameter {dims:?}"
                            )));
                        }
                    }
                }
                _ => None,
            };
        }
        Ok(())
    }
}

impl Moments {
    /// `(m, v)` as tensors shaped and placed like `like`.
    fn tensors(&self, like: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok(match self {
            Self::Tensors(m, v) => (m.clone(), v.clone()),
            Self::Host(h) => {
                let m: Vec<f32> = h.iter().step_by(2).copied().collect();
                let v: Vec<f32> = h.iter().skip(1).step_by(2).copied().collect();
                let t = |x: Vec<f32>| -> Result<Tensor> {
                    Ok(Tensor::from_vec(x, like.shape(), like.device())?.to_dtype(like.dtype())?)
                };
                (t(m)?, t(v)?)
            }
        })
    }
}

/// `m, v` tensors as the interleaved host layout of the fused step.
fn interleave(m: &Tensor, v: &Tensor) -> Result<Vec<f32>> {
    let m: Vec<f32> = m.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let v: Vec<f32> = v.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    Ok(m.iter().zip(&v).flat_map(|(a, b)| [*a, *b]).collect())
}
