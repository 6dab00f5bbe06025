//! Adam (Kingma & Ba 2015) over candle variables, with savable state.

use candle_core::{Tensor, Var, backprop::GradStore};

use crate::{Result, TrainError};

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
    moments: Vec<Option<(Tensor, Tensor)>>,
    step: u64,
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
        let moments = vec![None; vars.len()];
        Ok(Self {
            config,
            vars,
            moments,
            step: 0,
        })
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
        for ((_, var), moments) in self.vars.iter().zip(self.moments.iter_mut()) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // Gradients carry the backward graph, which references the whole
            // forward pass: moments built from them would keep every step's
            // graph alive (memory grows without bound). Detach.
            let g = &g.detach();
            let (m, v) = match moments.take() {
                Some((m, v)) => (
                    ((m * c.beta1)? + (g * (1.0 - c.beta1))?)?,
                    ((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?,
                ),
                None => ((g * (1.0 - c.beta1))?, (g.sqr()? * (1.0 - c.beta2))?),
            };
            let denom = ((&v / bc2)?.sqrt()? + c.eps)?;
            let update = ((&m / bc1)? / denom)?;
            var.set(&(var.as_tensor().detach() - (update * c.lr)?)?)?;
            *moments = Some((m.detach(), v.detach()));
        }
        Ok(())
    }

    /// The optimizer state as named tensors (`adam.m.<var>`, `adam.v.<var>`)
    /// and the step count, for checkpoints.
    pub fn state(&self) -> (Vec<(String, Tensor)>, u64) {
        let mut out = Vec::new();
        for ((name, _), moments) in self.vars.iter().zip(&self.moments) {
            if let Some((m, v)) = moments {
                out.push((format!("adam.m.{name}"), m.clone()));
                out.push((format!("adam.v.{name}"), v.clone()));
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
                    if m.dims() != var.as_tensor().dims() || v.dims() != var.as_tensor().dims() {
                        return Err(TrainError::InvalidConfig(format!(
                            "optimizer state of {name} has shape {:?}, the parameter {:?}",
                            m.dims(),
                            var.as_tensor().dims()
                        )));
                    }
                    Some((m, v))
                }
                _ => None,
            };
        }
        Ok(())
    }
}
