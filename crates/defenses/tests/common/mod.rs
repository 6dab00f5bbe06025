//! Helpers shared by the training tests.
#![allow(dead_code)]

use std::ops::ControlFlow;

use sgbn_data::{Dataset, available_mnist_dir, load_mnist};
use sgbn_defenses::TrainObserver;

/// The first `n_train` training and `n_test` test images of MNIST (the
/// vendored copy in the repository, `$SGBN_DATA_DIR` if set); `None`, with a
/// message, in a packaged build that has neither.
pub fn subsets(n_train: usize, n_test: usize) -> Option<(Dataset, Dataset)> {
    let Some(dir) = available_mnist_dir() else {
        eprintln!("skipped: no MNIST (a packaged build ships none; set SGBN_DATA_DIR)");
        return None;
    };
    let m = load_mnist(&dir).expect("mnist");
    Some((
        m.train.first(n_train).expect("train"),
        m.test.first(n_test).expect("test"),
    ))
}

/// Stops training at (epoch, batch), as a kill would.
pub struct StopAt(pub usize, pub usize);

impl TrainObserver for StopAt {
    fn batch(&mut self, epoch: usize, batch: usize, _: usize, _: f64) -> ControlFlow<()> {
        if (epoch, batch) == (self.0, self.1) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
