//! The toy experiment of §4.6.5 as jobs and report sections: a run keeps
//! its curve, predictions, gate outputs and σ(a) snapshots, and the
//! sections check the thesis's claims on them.

mod common;

use common::{Store, answer, section};

use candle_core::Device;
use sgbn_eval::{Figure, Profile, ToyJob, ToyResult};
use sgbn_metrics::Histogram;

#[test]
fn a_toy_run_keeps_what_the_figures_draw() {
    let dev = Device::Cpu;
    let st = ToyJob::new("toy-gm-st", 0, 100, &[0, 20, 60, 100])
        .run(&dev)
        .expect("st");
    assert_eq!(st.train_mse.len(), 2, "iterations 0 and 50");
    assert_eq!(
        (st.test_x.len(), st.prediction.len(), st.gate.len()),
        (90, 90, 90)
    );
    assert!(st.test_x.windows(2).all(|w| w[0] < w[1]));
    assert!(
        st.test_x
            .iter()
            .zip(&st.test_y)
            .all(|(x, y)| (x.abs() - y).abs() < 1e-6)
    );
    assert!(st.gate.iter().flatten().all(|m| *m == 0.0 || *m == 1.0));
    let at: Vec<usize> = st.sigma.iter().map(|(i, _)| *i).collect();
    assert_eq!(at, [0, 20, 60, 100]);
    assert!(st.sigma.iter().all(|(_, h)| h.total() == 2 * 210));

    let dt = ToyJob::new("toy-gmwow-dt", 0, 100, &[0, 100])
        .run(&dev)
        .expect("dt");
    assert!(dt.gate.iter().flatten().all(|p| *p > 0.0 && *p < 1.0));
    let mlp = ToyJob::new("toy-mlp", 0, 100, &[0, 100])
        .run(&dev)
        .expect("mlp");
    assert!(mlp.gate.is_empty() && mlp.sigma.is_empty());
    // The same job, the same numbers.
    let again = ToyJob::new("toy-gm-st", 0, 100, &[0, 20, 60, 100])
        .run(&dev)
        .expect("again");
    assert_eq!(again, st);
}

/// Toy runs whose test error is `mse(model, run)`, whose curves fall from
/// `start(model)`, whose stochastic gates sharpen from 0 % to 50 % near-binary.
struct Fake {
    mse: fn(&str, usize) -> f64,
    start: fn(&str) -> f64,
}

impl Fake {
    fn toy(&self, job: &ToyJob) -> Option<ToyResult> {
        let s = (self.start)(&job.model);
        let points = job.iterations / 50;
        let hist = |near: u64| {
            let mut h = Histogram::new(0.0, 1.0, 10).expect("h");
            h.counts[0] = near;
            h.counts[5] = 100 - 2 * near;
            h.counts[9] = near;
            h
        };
        Some(ToyResult {
            train_mse: (0..points).map(|i| s / (1.0 + i as f64)).collect(),
            test_mse: (self.mse)(&job.model, job.run),
            test_x: vec![-0.5, 0.0, 0.5],
            test_y: vec![0.5, 0.0, 0.5],
            prediction: vec![0.4, 0.1, 0.6],
            gate: vec![[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
            sigma: if job.model.ends_with("-st") {
                let last = *job.snapshots.last().expect("snapshots");
                vec![(0, hist(0)), (last, hist(25))]
            } else {
                Vec::new()
            },
        })
    }

    /// The store that answers with these.
    fn store(&self) -> Store<'_> {
        Store {
            toy: answer(|j| self.toy(j)),
            ..Store::default()
        }
    }
}

const STORE: Fake = Fake {
    mse: |model, run| match model {
        "toy-mlp" => 0.010 + 0.001 * run as f64,
        m if m.ends_with("-dt") => 0.002,
        _ => 0.008,
    },
    start: |model| if model.contains("gmwow") { 0.2 } else { 0.4 },
};

#[test]
fn the_toy_sections_check_the_thesis_claims() {
    let mut quick = Profile::named("quick").expect("quick");
    quick.toy_runs = 3;
    let s = section("fig4.27", &quick, &STORE.store());
    assert!(
        s.markdown.contains("| WOGM | 11.00 ± 1.00 (3) | 10.00 |"),
        "{}",
        s.markdown
    );
    assert!(
        s.markdown
            .contains("**holds** — mean test MSE × 1000: WOGM 11.00, GM_DT 2.00"),
        "{}",
        s.markdown
    );
    let Figure::Line { series, .. } = &s.figures[0].1 else {
        panic!("lines");
    };
    assert_eq!(series.len(), 6, "targets and five networks");

    let md = section("fig4.28", &quick, &STORE.store()).markdown;
    // At iteration 1000 (point 20): 0.2 / 21 against 0.4 / 21.
    assert!(
        md.contains("**holds** — at iteration 1000: GMWOW_ST 9.52 vs GM_ST 19.05"),
        "{md}"
    );

    let md = section("fig4.29", &quick, &STORE.store()).markdown;
    assert!(md.contains("| GM_ST | 0 % | – | – | 50 % |"), "{md}");
    assert!(
        md.contains("**holds** — GM_ST: 0 % → 50 %; GMWOW_ST: 0 % → 50 %"),
        "{md}"
    );

    let md = section("fig4.30", &quick, &STORE.store()).markdown;
    assert!(
        md.contains("| GM_ST | 33 % | 0 % | 33 % | 33 % | 0.67 | 0.33 |"),
        "{md}"
    );
    let md = section("fig4.25", &quick, &STORE.store()).markdown;
    assert!(md.contains("210 training and 90 testing points"), "{md}");
}
