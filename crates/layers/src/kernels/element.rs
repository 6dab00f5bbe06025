//! [`Element`]: the element types (f32, f64) every CPU kernel runs in.

/// Element types the CPU kernels run in.
pub(crate) trait Element:
    Copy
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
{
    /// One.
    const ONE: Self;

    /// `max(self, 0)`, the expression of candle's `relu`.
    fn relu(self) -> Self;
}

impl Element for f32 {
    const ONE: Self = 1.0;

    fn relu(self) -> Self {
        self.max(0.0)
    }
}

impl Element for f64 {
    const ONE: Self = 1.0;

    fn relu(self) -> Self {
        self.max(0.0)
    }
}
