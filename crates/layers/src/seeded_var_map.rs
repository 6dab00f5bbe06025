//! Parameter initialization from our own seeded generator, behind candle-nn's
//! `VarBuilder`.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, init::FanInOut, var_builder::SimpleBackend};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A store of named trainable variables whose initial values come from a
/// seeded generator, never from candle's (unseedable) CPU generator.
///
/// Each parameter draws from its own ChaCha8 stream, selected by a hash of its
/// full name: the initial value of `gate1.dense2.weight` depends only on the
/// seed and that name, not on the order in which layers are built. Use
/// [`SeededVarMap::var_builder`] with any candle-nn style builder.
#[derive(Clone, Debug)]
pub struct SeededVarMap {
    seed: u64,
    vars: Arc<Mutex<BTreeMap<String, Var>>>,
    frozen: bool,
}

/// FNV-1a, a stable 64-bit hash of a parameter name (stable across Rust
/// versions, unlike `DefaultHasher`).
fn name_stream(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl SeededVarMap {
    /// An empty store whose parameters will be initialized from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            vars: Arc::default(),
            frozen: false,
        }
    }

    /// A store whose builders hand out **detached** views of the parameters
    /// (sharing their storage): a model built from it computes the same
    /// function, and setting a variable here (loading a checkpoint) changes
    /// what the model sees, but backpropagation treats the parameters as
    /// constants and computes no gradient for them, only for the input. For
    /// attacks and evaluation. Batch-norm running statistics (names ending
    /// in `running_mean` / `running_var`) stay variables, because candle-nn's
    /// batch norm copies a non-variable tensor into a variable of its own.
    pub fn frozen(seed: u64) -> Self {
        Self {
            frozen: true,
            ..Self::new(seed)
        }
    }

    /// Whether this store hands out detached parameters.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    fn hand_out(&self, name: &str, var: &Var) -> Tensor {
        let buffer = name.ends_with("running_mean") || name.ends_with("running_var");
        if self.frozen && !buffer {
            var.as_tensor().detach()
        } else {
            var.as_tensor().clone()
        }
    }

    /// A `VarBuilder` that creates (or returns existing) variables here.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// Every variable, sorted by name.
    pub fn vars(&self) -> Vec<(String, Var)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Removes every variable whose name satisfies `pred` (e.g. a parameter
    /// that a model variant builds but never uses).
    pub fn remove_matching(&self, pred: impl Fn(&str) -> bool) {
        self.lock().retain(|name, _| !pred(name));
    }

    /// The variable called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Var> {
        self.lock().get(name).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Var>> {
        // A poisoned lock only means another thread panicked while holding
        // it; the map itself is still consistent (inserts are atomic).
        self.vars.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn generator(&self, name: &str) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(name_stream(name));
        rng
    }

    /// Draws the initial value of `name` as `init` describes.
    fn initial_value(
        &self,
        shape: &Shape,
        name: &str,
        init: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        let n = shape.elem_count();
        let mut rng = self.generator(name);
        let values: Vec<f64> = match init {
            Init::Const(v) => vec![v; n],
            Init::Uniform { lo, up } => (0..n).map(|_| rng.random_range(lo..up)).collect(),
            Init::Randn { mean, stdev } => (0..n)
                .map(|_| mean + stdev * standard_normal(&mut rng))
                .collect(),
            Init::Kaiming { fan, .. } => {
                // He et al. uniform with ReLU gain: bound = sqrt(6 / fan).
                let fan = fan_of(fan, shape).max(1) as f64;
                let bound = (6.0 / fan).sqrt();
                (0..n).map(|_| rng.random_range(-bound..bound)).collect()
            }
        };
        Tensor::from_vec(values, shape.clone(), device)?.to_dtype(dtype)
    }
}

fn fan_of(fan: FanInOut, shape: &Shape) -> usize {
    let dims = shape.dims();
    let receptive: usize = dims.iter().skip(2).product();
    match (fan, dims.len()) {
        (_, 0) => 1,
        (_, 1) => dims[0],
        (FanInOut::FanIn, _) => dims[1] * receptive,
        (FanInOut::FanOut, _) => dims[0] * receptive,
    }
}

/// A standard normal draw by the Box–Muller transform.
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The Glorot (Xavier) uniform initialization, `U(−a, a)` with
/// `a = sqrt(6 / (fan_in + fan_out))` (Glorot & Bengio 2010; the thesis's
/// chapter 3 states Xavier initialization).
pub fn glorot_uniform(fan_in: usize, fan_out: usize) -> Init {
    let a = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    Init::Uniform { lo: -a, up: a }
}

impl SimpleBackend for SeededVarMap {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if let Some(var) = self.lock().get(name) {
            let t = var.as_tensor();
            if t.shape() != &s {
                candle_core::bail!(
                    "parameter {name} has shape {:?}, asked for {:?}",
                    t.dims(),
                    s.dims()
                );
            }
            return Ok(self.hand_out(name, var));
        }
        let var = Var::from_tensor(&self.initial_value(&s, name, h, dtype, dev)?)?;
        let t = self.hand_out(name, &var);
        self.lock().insert(name.to_string(), var);
        Ok(t)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.lock().get(name) {
            Some(v) => Ok(self.hand_out(name, v)),
            None => candle_core::bail!("no parameter named {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }
}
