//! Seeded, deterministic mini-batch order.

use rand::{SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

use crate::{DataError, Result};

/// The order in which a training loop visits `n` examples in batches of
/// `batch_size`, reshuffled every epoch by a generator seeded from
/// `(seed, epoch)`.
///
/// The order of an epoch depends only on the seed and the epoch number, not
/// on the epochs before it, so a run resumed at epoch `e`, batch `k` sees
/// exactly the batches an uninterrupted run would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiniBatches {
    n: usize,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
    drop_last: bool,
}

impl MiniBatches {
    /// Shuffled batches of `batch_size` over `n` examples; the last, smaller
    /// batch is kept.
    pub fn new(n: usize, batch_size: usize, seed: u64) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidArgument("batch size must be > 0".into()));
        }
        Ok(Self {
            n,
            batch_size,
            seed,
            shuffle: true,
            drop_last: false,
        })
    }

    /// Whether to shuffle (default `true`; `false` visits examples in order,
    /// as for evaluation).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Whether to drop a last batch smaller than `batch_size` (default `false`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Number of batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.n / self.batch_size
        } else {
            self.n.div_ceil(self.batch_size)
        }
    }

    /// The permutation of `0..n` used in `epoch`.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.n).collect();
        if self.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(epoch);
            order.shuffle(&mut rng);
        }
        order
    }

    /// The batches of `epoch`, as lists of example indices.
    pub fn epoch(&self, epoch: u64) -> impl Iterator<Item = Vec<usize>> + use<> {
        let order = self.epoch_order(epoch);
        let batch_size = self.batch_size;
        let batches = self.batches_per_epoch();
        (0..batches).map(move |b| {
            let end = ((b + 1) * batch_size).min(order.len());
            order[b * batch_size..end].to_vec()
        })
    }
}
