//! Helpers shared by the training tests.
#![allow(dead_code)]

use std::ops::ControlFlow;

use sgbn_data::{Dataset, load_mnist, vendored_mnist_dir};
use sgbn_defenses::TrainObserver;

/// The first `n_train` training and `n_test` test images of the vendored
/// MNIST.
pub fn subsets(n_train: usize, n_test: usize) -> (Dataset, Dataset) {
    let m = load_mnist(&vendored_mnist_dir()).expect("mnist");
    (
        m.train.first(n_train).expect("train"),
        m.test.first(n_test).expect("test"),
    )
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
