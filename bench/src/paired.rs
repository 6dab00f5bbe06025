//! Paired rounds: a workload and the reference matmul measured in
//! alternation, so that each round's ratio compares the two at the same
//! speed of the machine.
//!
//! The 2-core machines drift by up to 2× within minutes (the matmul ran at
//! 87–175 GFLOP/s within one bench run). Criterion measures each workload for
//! several seconds on its own, so its rate can only be compared with matmuls
//! measured seconds away. Here every round is `matmul, workload × k` with a
//! matmul closing the last round, and round `i`'s workload is compared with
//! the matmuls just before and just after it, a fraction of a second away.
//!
//! Each side is timed by its fastest run: the least of three matmuls, and
//! the least of the round's workload iterations (at least three). A single
//! matmul right after a workload that churned memory ran at anything from
//! 80 to 172 GFLOP/s in the first version of this harness, which took one
//! matmul and the workload's mean; the fastest runs of both are the
//! least disturbed by the machine's other tenants, and they are compared
//! in the same way.

use std::time::{Duration, Instant};

use crate::{Error, Iteration};

/// One round: the workload's fastest iteration and the fastest matmuls
/// just before and just after the round, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedRound {
    /// Fastest workload iteration of this round.
    pub workload_seconds: f64,
    /// Fastest of the matmuls just before the round's workload iterations.
    pub matmul_before_seconds: f64,
    /// Fastest of the matmuls just after them.
    pub matmul_after_seconds: f64,
}

impl PairedRound {
    /// The workload's rate (`workload_flops` per iteration) divided by the
    /// mean rate of the two matmuls around it (`matmul_flops` each).
    pub fn ratio(&self, workload_flops: f64, matmul_flops: f64) -> f64 {
        let matmul_rate = 0.5
            * (matmul_flops / self.matmul_before_seconds
                + matmul_flops / self.matmul_after_seconds);
        workload_flops / self.workload_seconds / matmul_rate
    }
}

/// Matmul runs per timing (the fastest counts).
pub const MATMUL_RUNS: usize = 3;
/// Least number of workload iterations per round.
pub const MIN_ITERATIONS: usize = 3;

/// Runs `rounds` paired rounds. Each runs `workload` enough times to last
/// about `min_workload` (counted from one warm-up iteration, at least
/// [`MIN_ITERATIONS`] times), between two timings of `matmul` (each the
/// fastest of [`MATMUL_RUNS`] runs); consecutive rounds share the timing
/// between them. Each call goes through `run` (the bench runs them on a
/// rayon worker, as `cargo xtask` does).
pub fn paired_rounds(
    workload: &mut Iteration,
    matmul: &mut Iteration,
    rounds: usize,
    min_workload: Duration,
    mut run: impl FnMut(&mut Iteration) -> Result<(), Error>,
) -> Result<Vec<PairedRound>, Error> {
    let mut timed = |f: &mut Iteration| -> Result<f64, Error> {
        let t = Instant::now();
        run(f)?;
        Ok(t.elapsed().as_secs_f64())
    };
    let mut fastest = |f: &mut Iteration, runs: usize| -> Result<f64, Error> {
        let mut best = f64::INFINITY;
        for _ in 0..runs {
            best = best.min(timed(f)?);
        }
        Ok(best)
    };
    fastest(matmul, 1)?;
    let warm = fastest(workload, 1)?;
    let per_round =
        ((min_workload.as_secs_f64() / warm.max(1e-9)).ceil() as usize).max(MIN_ITERATIONS);
    let mut before = fastest(matmul, MATMUL_RUNS)?;
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let workload_seconds = fastest(workload, per_round)?;
        let after = fastest(matmul, MATMUL_RUNS)?;
        out.push(PairedRound {
            workload_seconds,
            matmul_before_seconds: before,
            matmul_after_seconds: after,
        });
        before = after;
    }
    Ok(out)
}

/// The median of `values` (the mean of the middle two for an even count);
/// `None` when empty or when a value is NaN.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn logging(log: &Arc<Mutex<String>>, c: char) -> Iteration {
        let log = Arc::clone(log);
        Box::new(move || {
            log.lock().map_err(|e| e.to_string())?.push(c);
            Ok(())
        })
    }

    #[test]
    fn rounds_alternate_and_share_the_matmuls_between_them() {
        let log = Arc::new(Mutex::new(String::new()));
        let (mut w, mut m) = (logging(&log, 'W'), logging(&log, 'M'));
        // A round of zero length: the least number of iterations.
        let rounds = paired_rounds(&mut w, &mut m, 3, Duration::ZERO, |f| f()).expect("rounds");
        assert_eq!(rounds.len(), 3);
        // Warm-up matmul and workload, then M³ (W³ M³) × 3.
        let (w3, m3) = ("W".repeat(MIN_ITERATIONS), "M".repeat(MATMUL_RUNS));
        let expected = format!("MW{m3}{}", format!("{w3}{m3}").repeat(3));
        assert_eq!(log.lock().expect("log").as_str(), expected);
        for pair in rounds.windows(2) {
            assert_eq!(pair[0].matmul_after_seconds, pair[1].matmul_before_seconds);
        }
    }

    #[test]
    fn ratio_divides_the_rates() {
        let r = PairedRound {
            workload_seconds: 2.0,
            matmul_before_seconds: 1.0,
            matmul_after_seconds: 0.5,
        };
        // Workload 10 / 2 = 5 per s; matmul (10 + 20) / 2 = 15 per s.
        assert!((r.ratio(10.0, 10.0) - 5.0 / 15.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_even_empty_and_nan() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn errors_of_the_workload_stop_the_rounds() {
        let mut w: Iteration = Box::new(|| Err("boom".into()));
        let mut m: Iteration = Box::new(|| Ok(()));
        let e = paired_rounds(&mut w, &mut m, 2, Duration::ZERO, |f| f()).expect_err("error");
        assert_eq!(e.to_string(), "boom");
    }
}
