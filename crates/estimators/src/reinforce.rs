//! REINFORCE for stochastic binary units with the variance-minimizing
//! baseline (eq. 2.14–2.16).

use candle_core::{DType, Tensor};
use rand::Rng;

use crate::{EstimatorError, Result, stochastic_binary::bernoulli_sample};

/// Settings of the moving-average baseline of eq. 2.15.
///
/// Defaults follow the code the authors built on: decay 0.95, numerator
/// starting at 0, denominator at 1, and `L̄ = num / (den + 1e-4)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinforceBaselineConfig {
    /// Decay of the exponential moving averages, in `[0, 1)`.
    pub decay: f64,
    /// Added to the denominator before dividing.
    pub epsilon: f64,
    /// Whether to subtract a baseline at all (`false`: `L̄ = 0`, the plain
    /// REINFORCE estimator, kept for comparison).
    pub use_baseline: bool,
}

impl Default for ReinforceBaselineConfig {
    fn default() -> Self {
        Self {
            decay: 0.95,
            epsilon: 1e-4,
            use_baseline: true,
        }
    }
}

/// One draw of stochastic binary units `h = 1[u < σ(a)]` (eq. 2.10–2.11) kept
/// for a REINFORCE update.
///
/// `h` carries no gradient: the layers above it train on `h` as on any input,
/// while `a` (and whatever produced it) learns through
/// [`ReinforceBaseline::surrogate_loss`].
#[derive(Debug, Clone)]
pub struct ReinforceSample {
    /// The sampled binary units, `(batch, units…)`, exactly 0 or 1, detached.
    pub h: Tensor,
    /// `σ(a)`, detached.
    pub probability: Tensor,
    /// The pre-activations, still attached to the graph.
    pub pre_activation: Tensor,
}

impl ReinforceSample {
    /// Samples `h = 1[u < σ(a)]` with uniforms drawn from `rng`.
    ///
    /// `a` must have a leading batch dimension.
    pub fn draw<R: Rng + ?Sized>(a: &Tensor, rng: &mut R) -> Result<Self> {
        if a.rank() == 0 {
            return Err(candle_core::Error::Msg(
                "REINFORCE units need a leading batch dimension".into(),
            )
            .into());
        }
        let probability = candle_nn::ops::sigmoid(&a.detach())?;
        let h = bernoulli_sample(&probability, rng)?;
        Ok(Self {
            h,
            probability,
            pre_activation: a.clone(),
        })
    }

    fn batch(&self) -> usize {
        self.h.dims()[0]
    }

    fn units(&self) -> usize {
        self.h.elem_count() / self.batch().max(1)
    }
}

/// The REINFORCE estimator of Bengio et al. (2013) with the per-unit
/// variance-minimizing baseline
/// `L̄ = E[(h − σ(a))² L] / E[(h − σ(a))²]` (eq. 2.15), estimated by
/// exponential moving averages over mini-batches.
///
/// The gradient estimate for unit `i` of example `b` is
/// `(h_bi − σ(a_bi))·(L_b − L̄_i)` (eq. 2.14), where `L_b` is that example's
/// loss. The baseline used for a batch comes from earlier batches only, so
/// the estimate stays unbiased; the batch then updates the averages.
#[derive(Debug, Clone)]
pub struct ReinforceBaseline {
    config: ReinforceBaselineConfig,
    /// `(numerator, denominator)` per unit, created on first use.
    state: Option<(Tensor, Tensor)>,
}

impl ReinforceBaseline {
    /// A baseline with numerator 0 and denominator 1, shaped on first use.
    pub fn new(config: ReinforceBaselineConfig) -> Result<Self> {
        if !(0.0..1.0).contains(&config.decay) {
            return Err(EstimatorError::InvalidConfig {
                name: "decay",
                value: config.decay,
                why: "must lie in [0, 1)",
            });
        }
        if !(config.epsilon.is_finite() && config.epsilon >= 0.0) {
            return Err(EstimatorError::InvalidConfig {
                name: "epsilon",
                value: config.epsilon,
                why: "must be finite and >= 0",
            });
        }
        Ok(Self {
            config,
            state: None,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ReinforceBaselineConfig {
        &self.config
    }

    /// The current baseline `L̄` per unit (shape of one example's units), or
    /// `None` before the first update. Always `None` without a baseline.
    pub fn baseline(&self) -> Result<Option<Tensor>> {
        match &self.state {
            Some((num, den)) if self.config.use_baseline => {
                Ok(Some(num.broadcast_div(&(den + self.config.epsilon)?)?))
            }
            _ => Ok(None),
        }
    }

    fn check(&self, sample: &ReinforceSample, loss: &Tensor) -> Result<Tensor> {
        let batch = sample.batch();
        if loss.dims() != [batch] {
            return Err(EstimatorError::LossShape {
                loss: loss.dims().to_vec(),
                batch,
            });
        }
        let values = loss.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(EstimatorError::NonFiniteLoss(*bad));
        }
        if let Some((num, _)) = &self.state
            && num.elem_count() != sample.units()
        {
            return Err(EstimatorError::BaselineShape {
                expected: num.elem_count(),
                found: sample.units(),
            });
        }
        // (batch, 1, 1, …) so that it broadcasts over the units.
        let mut shape = vec![1; sample.h.rank()];
        shape[0] = batch;
        Ok(loss.detach().to_dtype(sample.h.dtype())?.reshape(shape)?)
    }

    /// The moving averages `(numerator, denominator)` per unit, `None` before
    /// the first update: what a checkpoint saves to resume exactly.
    pub fn state(&self) -> Option<(Tensor, Tensor)> {
        self.state.clone()
    }

    /// Restores moving averages saved by [`Self::state`].
    pub fn restore(&mut self, numerator: Tensor, denominator: Tensor) -> Result<()> {
        if numerator.dims() != denominator.dims() {
            return Err(candle_core::Error::Msg(format!(
                "REINFORCE baseline: numerator {:?} and denominator {:?} differ in shape",
                numerator.dims(),
                denominator.dims()
            ))
            .into());
        }
        self.state = Some((numerator, denominator));
        Ok(())
    }

    /// The per-example gradient estimate `(h − σ(a))·(L − L̄)` (eq. 2.14),
    /// shaped like `sample.h`, using the current baseline. Does not update it.
    pub fn per_example_estimate(&self, sample: &ReinforceSample, loss: &Tensor) -> Result<Tensor> {
        let loss = self.check(sample, loss)?;
        let centred = match self.baseline()? {
            Some(baseline) => loss.broadcast_sub(&baseline.unsqueeze(0)?)?,
            None => loss,
        };
        let residual = (&sample.h - &sample.probability)?;
        Ok(residual.broadcast_mul(&centred)?)
    }

    /// A scalar whose gradient with respect to `sample.pre_activation` is the
    /// REINFORCE estimate of the gradient of the **batch-mean** loss:
    /// `(h_b − σ(a_b))·(L_b − L̄) / batch`. Add it to the training loss (its
    /// value is meaningless). Then updates the moving averages with this batch.
    ///
    /// `loss` holds the per-example losses, shape `(batch,)`; it is detached
    /// here and must be finite.
    pub fn surrogate_loss(&mut self, sample: &ReinforceSample, loss: &Tensor) -> Result<Tensor> {
        let estimate = self.per_example_estimate(sample, loss)?.detach();
        let batch = sample.batch() as f64;
        let surrogate = ((estimate * &sample.pre_activation)?.sum_all()? / batch)?;
        self.update(sample, loss)?;
        Ok(surrogate)
    }

    /// Folds one batch into the moving averages:
    /// `num ← d·num + (1−d)·mean_b[(h−σ)² L_b]`,
    /// `den ← d·den + (1−d)·mean_b[(h−σ)²]`.
    pub fn update(&mut self, sample: &ReinforceSample, loss: &Tensor) -> Result<()> {
        let loss = self.check(sample, loss)?;
        let sq = (&sample.h - &sample.probability)?.sqr()?;
        let unit_shape = sample.h.dims()[1..].to_vec();
        let batch_num = sq.broadcast_mul(&loss)?.mean(0)?;
        let batch_den = sq.mean(0)?;
        let (num, den) = match self.state.take() {
            Some(state) => state,
            None => (
                Tensor::zeros(unit_shape.as_slice(), sample.h.dtype(), sample.h.device())?,
                Tensor::ones(unit_shape.as_slice(), sample.h.dtype(), sample.h.device())?,
            ),
        };
        let d = self.config.decay;
        let num = ((num * d)? + (batch_num * (1.0 - d))?)?;
        let den = ((den * d)? + (batch_den * (1.0 - d))?)?;
        self.state = Some((num, den));
        Ok(())
    }
}
