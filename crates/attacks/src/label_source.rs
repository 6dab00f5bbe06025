//! Which labels an untargeted gradient attack raises the loss of.

/// The labels of an untargeted attack's loss.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LabelSource {
    /// The true labels (the thesis's eq. 2.26, and AutoAttack).
    #[default]
    True,
    /// The model's own prediction, the argmax of the very forward pass
    /// whose gradient is taken: CleverHans v1's `fgsm` without `y` (what
    /// the thesis's attack code, "based on CleverHans", did). Examples the
    /// model already gets wrong are pushed away from the wrong class.
    Predicted,
}
