//! What the CPU can run: the one place in the workspace that detects
//! instruction-set extensions (each answer is checked once and cached).

/// Whether this x86-64 CPU has AVX2 and FMA (the panel products' register
/// tile of the column-panel products and the fused Adam update of
/// `sgbn-defenses` are compiled for them and chosen at run time).
/// Always `false` on other architectures.
pub fn avx2_fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
