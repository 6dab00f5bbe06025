//! Running a whole training or attack step on one of rayon's worker threads.
//!
//! Every parallel kernel of this workspace forks with rayon, and so does
//! `gemm` inside candle's matmul. Called from a thread outside rayon's pool
//! (a program's main thread), each such op injects its jobs into the pool
//! and puts the caller to sleep until a worker has finished them: one
//! wake-up and one sleep per op. A CNN training step is some sixty ops of a
//! few tens of µs each, and these hand-offs cost it 15–20 % of its time
//! (`docs/performance.md`). Run from a worker, the same ops fork with
//! `join`, and the caller works instead of sleeping.

/// Runs `f` on a worker thread of rayon's global pool and returns its
/// result; runs it in place when the caller already is a rayon worker.
///
/// Wrap a whole step (forward, backward, optimizer) or a whole program in
/// it, not single ops: the hand-off it saves happens once per call. A panic
/// in `f` propagates to the caller. Workers have rayon's stack size
/// (configurable with `rayon::ThreadPoolBuilder::stack_size` before the
/// pool's first use).
///
/// ```
/// let threads = sgbn_layers::on_worker_thread(rayon::current_thread_index);
/// assert!(threads.is_some());
/// ```
pub fn on_worker_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        rayon::scope(|_| f())
    }
}
