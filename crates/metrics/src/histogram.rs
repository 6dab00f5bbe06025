//! Fixed-bin histograms.

use crate::{MetricsError, Result};

/// Counts of values in `bins` equal-width bins over `[lo, hi]`; values
/// outside land in the first or last bin and are also counted in
/// `below` / `above`; NaN values are counted in `non_finite` only.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub lo: f64,
    /// Upper edge of the last bin.
    pub hi: f64,
    /// Count per bin.
    pub counts: Vec<u64>,
    /// Values below `lo` (clamped into the first bin).
    pub below: u64,
    /// Values above `hi` (clamped into the last bin).
    pub above: u64,
    /// NaN and ±∞ values (not binned).
    pub non_finite: u64,
}

impl Histogram {
    /// An empty histogram; `bins ≥ 1` and `lo < hi` (finite).
    pub fn new(lo: f64, hi: f64, bins: usize) -> Result<Self> {
        if bins == 0 || !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(MetricsError::InvalidArgument(format!(
                "histogram over [{lo}, {hi}] with {bins} bins"
            )));
        }
        Ok(Self {
            lo,
            hi,
            counts: vec![0; bins],
            below: 0,
            above: 0,
            non_finite: 0,
        })
    }

    /// A histogram of `values`.
    pub fn of(
        values: impl IntoIterator<Item = f64>,
        lo: f64,
        hi: f64,
        bins: usize,
    ) -> Result<Self> {
        let mut h = Self::new(lo, hi, bins)?;
        for v in values {
            h.add(v);
        }
        Ok(h)
    }

    /// Adds one value.
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.non_finite += 1;
            return;
        }
        let bins = self.counts.len();
        let i = if v < self.lo {
            self.below += 1;
            0
        } else if v > self.hi {
            self.above += 1;
            bins - 1
        } else {
            (((v - self.lo) / (self.hi - self.lo) * bins as f64) as usize).min(bins - 1)
        };
        self.counts[i] += 1;
    }

    /// Edges of the bins (`bins + 1` values).
    pub fn edges(&self) -> Vec<f64> {
        let bins = self.counts.len();
        (0..=bins)
            .map(|i| self.lo + (self.hi - self.lo) * i as f64 / bins as f64)
            .collect()
    }

    /// Number of binned values.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}
