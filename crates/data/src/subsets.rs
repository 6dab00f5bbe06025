//! Deterministic subsets and the held-out validation split.

use rand::{SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Dataset, Result};

impl Dataset {
    /// The first `k` examples, in order.
    pub fn first(&self, k: usize) -> Result<Self> {
        if k > self.len() {
            return Err(DataError::InvalidArgument(format!(
                "asked for the first {k} of {} examples",
                self.len()
            )));
        }
        self.select(&(0..k).collect::<Vec<_>>())
    }

    /// `k` examples with the classes as balanced as possible: `k / C` of each
    /// class, and one more for the first `k mod C` classes; within a class
    /// the earliest examples are taken. The result keeps the data set's order.
    /// No randomness: the same data set and `k` give the same subset.
    pub fn class_balanced(&self, k: usize) -> Result<Self> {
        let classes = self.num_classes();
        let labels = self.label_vec()?;
        let mut quota: Vec<usize> = (0..classes)
            .map(|c| k / classes + usize::from(c < k % classes))
            .collect();
        let mut chosen = Vec::with_capacity(k);
        for (i, label) in labels.iter().enumerate() {
            let q = &mut quota[*label as usize];
            if *q > 0 {
                *q -= 1;
                chosen.push(i);
            }
        }
        if let Some((class, missing)) = quota.iter().enumerate().find(|(_, q)| **q > 0) {
            return Err(DataError::InvalidArgument(format!(
                "a class-balanced subset of {k} needs {missing} more examples of class {class}"
            )));
        }
        self.select(&chosen)
    }

    /// Splits off `n_validation` examples chosen by a permutation seeded with
    /// `seed`, for early stopping; returns `(train, validation)`, each in the
    /// data set's order. The same seed gives the same split.
    pub fn split_validation(&self, n_validation: usize, seed: u64) -> Result<(Self, Self)> {
        if n_validation == 0 || n_validation >= self.len() {
            return Err(DataError::InvalidArgument(format!(
                "a validation split of {n_validation} needs 0 < n < {} examples",
                self.len()
            )));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (val, train) = order.split_at_mut(n_validation);
        val.sort_unstable();
        train.sort_unstable();
        Ok((self.select(train)?, self.select(val)?))
    }
}
