//! The allocator setting of the project's binaries (`cargo xtask`, the
//! bench and its examples, which all use mimalloc as the global
//! allocator).

// One foreign call into mimalloc, which every binary that calls this links.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_long};

// Links mimalloc (and the C functions below) into every binary that uses
// this crate, global allocator or not.
use mimalloc as _;

/// `mi_option_purge_delay` in the `mi_option_t` enum of the mimalloc that
/// `libmimalloc-sys` 0.1.49 builds (v2 and v3 headers alike:
/// `c_src/mimalloc/v3/include/mimalloc.h`); `Cargo.lock` pins that version.
const MI_OPTION_PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_option_get(option: c_int) -> c_long;
}

/// Tells mimalloc never to return freed memory to the OS ("purge").
///
/// A training step frees its large tensors (the gate layer's 105 MB weight
/// gradient, its 10 MB activations) and allocates them again in the next
/// step. With mimalloc's default delay the freed pages went back to the OS
/// between steps and came back as fresh pages that the kernel zeroes:
/// 9–12 % of an SGBN step's CPU time was `clear_page_erms`, and 30 steps
/// took 8,300–16,000 page faults. Without purging: 620–650. Same binary,
/// alternating with the variable `MIMALLOC_PURGE_DELAY=-1` (which this
/// sets from inside), four pairs: SGBN step 161.6 → 149.4 ms (means), faster
/// in three pairs of four. (The default delay of this mimalloc is 1 s.) The resident set stays at the largest the run
/// needed, which it reached anyway.
///
/// A purge delay set by the user (the variable `MIMALLOC_PURGE_DELAY`, in
/// ms) is left as it is.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: `mi_option_set` takes any option index and value (options
    // are plain integers read by the allocator when it purges); it is
    // thread-safe and may be called at any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// mimalloc's purge delay in ms (−1: never), as [`keep_freed_memory`]
/// sets it.
// `c_long` is `i64` here but `i32` on Windows.
#[allow(clippy::useless_conversion)]
pub fn purge_delay() -> i64 {
    // SAFETY: reads an option; any index is accepted.
    i64::from(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names the purge delay: it starts at that option's default
    /// in the bundled mimalloc (1,000 ms, `src/options.c`; the only option
    /// with that default), and the call sets it to −1.
    #[test]
    fn freed_memory_is_kept_after_the_call() {
        assert_eq!(purge_delay(), 1000);
        keep_freed_memory();
        let by_user = std::env::var_os("MIMALLOC_PURGE_DELAY").is_some();
        assert_eq!(purge_delay(), if by_user { 1000 } else { -1 });
    }
}
