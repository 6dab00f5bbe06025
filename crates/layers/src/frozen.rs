//! Frozen copies of a model's parameters, for attacks: an attack needs
//! gradients to the input only, and a model built from `Var`s makes every
//! backward pass compute (and allocate) every parameter's gradient too. A
//! model rebuilt from a frozen copy computes the same logits and no
//! parameter gradient (measured on the SGBN: EOT-PGD about twice as fast;
//! docs/performance.md).

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;

/// A `VarBuilder` over detached copies of `vars` (by name): build your
/// model a second time from it, with the same code, and attack that one.
///
/// ```
/// use candle_core::{DType, Device, Module, Tensor, Var};
/// use candle_nn::{VarBuilder, VarMap};
///
/// let varmap = VarMap::new();
/// let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
/// let trained = candle_nn::linear(4, 2, vb.pp("fc"))?;
/// let vars: Vec<_> = varmap.data().lock().map_err(|e| e.to_string())?.clone().into_iter().collect();
/// let frozen = candle_nn::linear(4, 2, sgbn_layers::frozen_var_builder(vars, DType::F32, &Device::Cpu).pp("fc"))?;
/// let x = Var::from_tensor(&Tensor::ones((1, 4), DType::F32, &Device::Cpu)?)?;
/// let y = frozen.forward(&x)?;
/// assert_eq!(y.to_vec2::<f32>()?, trained.forward(&x)?.to_vec2::<f32>()?);
/// let grads = y.sum_all()?.backward()?;
/// assert!(grads.get(&x).is_some());                 // the input's gradient
/// assert!(grads.get(trained.weight()).is_none());   // no parameter's
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn frozen_var_builder(
    vars: impl IntoIterator<Item = (String, Var)>,
    dtype: DType,
    device: &Device,
) -> VarBuilder<'static> {
    let tensors: HashMap<String, Tensor> = vars
        .into_iter()
        .map(|(name, var)| (name, var.as_tensor().detach()))
        .collect();
    VarBuilder::from_tensors(tensors, dtype, device)
}
