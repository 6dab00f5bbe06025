//! Load MNIST (the vendored copy or `$SGBN_DATA_DIR`; every file's SHA-256 verified), hold out a
//! seeded validation split, and draw the seeded mini-batches of one epoch.
//!
//! `cargo run --release -p sgbn-data --example mnist`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `$SGBN_DATA_DIR`, else the copy vendored in the repository (a package
    // does not ship it).
    let dir = sgbn_data::available_mnist_dir()
        .ok_or("no MNIST: set SGBN_DATA_DIR to a folder holding the four MNIST files")?;
    let mnist = sgbn_data::load_mnist(&dir)?;
    for file in &mnist.files {
        println!("verified {} (sha256 {})", file.path.display(), file.sha256);
    }
    // The thesis's recipe holds out part of the training set for early stopping.
    let (train, validation) = mnist.train.split_validation(5000, 0)?;
    println!(
        "train {} images {:?}, validation {}, test {}",
        train.len(),
        train.images().dims(),
        validation.len(),
        mnist.test.len()
    );
    // Mini-batches of 50 in a seeded order: the same seed, the same batches.
    let batches = sgbn_data::MiniBatches::new(train.len(), 50, 7)?;
    let first = batches.epoch(0).next().ok_or("no batch")?;
    let (x, y) = train.batch(&first)?;
    println!(
        "{} batches per epoch; the first: images {:?}, labels {:?}…",
        batches.batches_per_epoch(),
        x.dims(),
        &y.to_vec1::<u32>()?[..8]
    );
    assert_eq!(batches.epoch(0).next(), Some(first), "seeded order");
    Ok(())
}
