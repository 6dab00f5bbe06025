//! [`TsneJob`]: a 2-D t-SNE embedding (Barnes–Hut, the `bhtsne` crate) of
//! the first test images, clean or FGSM examples crafted on a model, with
//! how well the embedding keeps the digits apart (Fig. 4.12). Seeded: our
//! generator draws the initial embedding, and the fit runs on one thread so
//! that its sums add up in the same order every time.

use candle_core::Device;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use sgbn_data::Dataset;
use sgbn_estimators::SeededRng;

use crate::work::{DataSource, Work, WorkInputs, run_stem};
use crate::{AttackSpec, EvalError, ModelLoader, RESULTS_VERSION, Result, TrainJob};

/// Neighbours of the agreement measure ([`knn_agreement`]).
pub const AGREEMENT_NEIGHBOURS: usize = 5;

/// A t-SNE embedding of test images.
#[derive(Debug, Clone, Serialize)]
pub struct TsneJob {
    /// [`RESULTS_VERSION`].
    pub version: &'static str,
    /// The model whose FGSM examples are embedded (`None`: the clean images).
    pub source: Option<TrainJob>,
    /// The FGSM budget (with a source).
    pub eps: f64,
    /// The first this many test images.
    pub test_size: usize,
    /// Perplexity (reduced to `(n − 1) / 3` for small sets).
    pub perplexity: f64,
    /// Gradient-descent epochs.
    pub epochs: usize,
    /// Seed of the initial embedding.
    pub seed: u64,
}

/// The outcome of a [`TsneJob`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsneResult {
    /// The true label of each point.
    pub labels: Vec<u32>,
    /// The 2-D embedding, one point per image.
    pub embedding: Vec<[f32; 2]>,
    /// [`knn_agreement`] of the embedding.
    pub agreement: f64,
}

/// Share of points whose [`AGREEMENT_NEIGHBOURS`] nearest neighbours in
/// the embedding mostly carry their own label (ties: not agreeing).
pub fn knn_agreement(points: &[[f32; 2]], labels: &[u32]) -> f64 {
    let n = points.len();
    if n <= AGREEMENT_NEIGHBOURS {
        return 0.0;
    }
    let mut agree = 0usize;
    for i in 0..n {
        let mut d: Vec<(f32, usize)> = (0..n)
            .filter(|j| *j != i)
            .map(|j| {
                let (dx, dy) = (points[i][0] - points[j][0], points[i][1] - points[j][1]);
                (dx * dx + dy * dy, j)
            })
            .collect();
        d.select_nth_unstable_by(AGREEMENT_NEIGHBOURS - 1, |a, b| a.0.total_cmp(&b.0));
        let mut votes: std::collections::BTreeMap<u32, usize> = Default::default();
        for (_, j) in &d[..AGREEMENT_NEIGHBOURS] {
            *votes.entry(labels[*j]).or_default() += 1;
        }
        let own = votes.get(&labels[i]).copied().unwrap_or(0);
        if votes.iter().all(|(l, v)| *l == labels[i] || *v < own) {
            agree += 1;
        }
    }
    agree as f64 / n as f64
}

impl TsneJob {
    /// An embedding of the first `test_size` test images, or of their FGSM
    /// examples at `eps` crafted on `source`.
    pub fn new(
        source: Option<&TrainJob>,
        eps: f64,
        test_size: usize,
        epochs: usize,
        seed: u64,
    ) -> Self {
        Self {
            version: RESULTS_VERSION,
            source: source.cloned(),
            eps,
            test_size,
            perplexity: 30.0,
            epochs,
            seed,
        }
    }

    /// Cost in GFLOP, for progress estimates (the crafting pass, and the
    /// fit: about 100 operations a point and epoch).
    pub fn cost(&self) -> f64 {
        let craft = self.source.as_ref().map_or(0.0, |s| {
            3.0 * s.spec.forward_flops().total() as f64 * self.test_size as f64
        });
        (craft + 100.0 * (self.test_size * self.epochs) as f64) / 1e9
    }

    /// Runs it, loading the source model (if any) through `load`.
    pub fn run(
        &self,
        load: &mut ModelLoader<'_>,
        test: &Dataset,
        device: &Device,
    ) -> Result<TsneResult> {
        let n = self.test_size.min(test.len());
        if n < 2 * AGREEMENT_NEIGHBOURS {
            return Err(EvalError::InvalidConfig(format!(
                "a t-SNE of {n} images: at least {} are needed",
                2 * AGREEMENT_NEIGHBOURS
            )));
        }
        let data = test.first(n)?.to_device(device)?;
        let images = match &self.source {
            None => data.images().clone(),
            Some(job) => {
                let (model, slope) = load(job)?;
                let attack = AttackSpec::fgsm(self.eps).build(job.run as u64)?;
                let mut rng = SeededRng::seed_from_u64(0x75e ^ job.run as u64);
                sgbn_attacks::attack_dataset(
                    attack.as_ref(),
                    &sgbn_attacks::EvalClassifier::new(&model, slope),
                    data.images(),
                    data.labels(),
                    crate::JOB_BATCH,
                    &mut rng,
                )?
                .adversarial
            }
        };
        let rows: Vec<Vec<f32>> = images.flatten_from(1)?.to_vec2::<f32>()?;
        let labels = data.label_vec()?;
        let embedding = self.fit(&rows)?;
        let agreement = knn_agreement(&embedding, &labels);
        Ok(TsneResult {
            labels,
            embedding,
            agreement,
        })
    }

    #[cfg(feature = "tsne")]
    fn fit(&self, rows: &[Vec<f32>]) -> Result<Vec<[f32; 2]>> {
        use rand::Rng;
        let n = rows.len();
        let perplexity = self.perplexity.min((n - 1) as f64 / 3.0 - 1.0).max(1.0) as f32;
        // Initial coordinates N(0, 1e-4²), Box–Muller from our generator.
        let mut rng = SeededRng::seed_from_u64(self.seed);
        let init: Vec<f32> = (0..2 * n)
            .map(|_| {
                let (u, v): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
                (1e-4 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
            })
            .collect();
        let samples: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| EvalError::InvalidConfig(format!("a thread pool for t-SNE: {e}")))?;
        let y = pool.install(|| {
            let mut tsne: bhtsne::tSNE<'_, f32, &[f32]> = bhtsne::tSNE::new(&samples);
            tsne.perplexity(perplexity)
                .epochs(self.epochs)
                .initial_embedding(init)
                .barnes_hut(0.5, |a, b| {
                    a.iter()
                        .zip(b.iter())
                        .map(|(x, y)| (x - y) * (x - y))
                        .sum::<f32>()
                        .sqrt()
                });
            tsne.embedding()
        });
        Ok(y.chunks(2).map(|c| [c[0], c[1]]).collect())
    }

    #[cfg(not(feature = "tsne"))]
    fn fit(&self, _: &[Vec<f32>]) -> Result<Vec<[f32; 2]>> {
        Err(EvalError::InvalidConfig(
            "t-SNE needs the `tsne` feature of sgbn-eval (on in `cargo xtask`)".into(),
        ))
    }
}

impl Work for TsneJob {
    type Output = TsneResult;
    const KIND: &'static str = "tsne";
    const FOLDER: &'static str = "tsne";
    const NOUN: &'static str = "t-SNE embeddings";
    fn stem(&self) -> String {
        self.source.as_ref().map_or("clean".into(), run_stem)
    }
    fn label(&self) -> String {
        format!(
            "t-SNE of {}",
            self.source
                .as_ref()
                .map_or("clean images".into(), |s| format!(
                    "{} run {} examples",
                    s.model, s.run
                ))
        )
    }
    fn cost(&self, _data: &dyn DataSource) -> Result<f64> {
        Ok(self.cost())
    }
    fn needs(&self) -> Vec<&TrainJob> {
        self.source.iter().collect()
    }
    fn compute(&self, inputs: &WorkInputs<'_>) -> Result<TsneResult> {
        let mut load = |j: &TrainJob| inputs.models.load(j);
        self.run(&mut load, inputs.data.mnist_test(), inputs.device)
    }
}
