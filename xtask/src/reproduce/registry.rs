//! The experiment registry: one id per thesis figure or table (SPEC §6).

/// What an experiment measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// White-box FGSM accuracy against ε (the profile's FGSM grid).
    FgsmCurve,
    /// White-box BIM and ILL accuracy against ε (the profile's iterative grid).
    Iterative,
    /// FGSM at ε 0.3 crafted on each source, evaluated on each target.
    Transfer {
        sources: &'static [&'static str],
        targets: &'static [&'static str],
    },
    /// FGSM at ε 0, 0.1, 0.2, 0.3 beside Table 4.11.
    Table,
    /// PGD with EOT, Square, repeated passes and sanity flags.
    Adaptive,
}

/// One experiment.
#[derive(Debug, Clone, Copy)]
pub struct Experiment {
    pub id: &'static str,
    pub title: &'static str,
    /// Where in the thesis.
    pub reference: &'static str,
    /// Model keys (`ModelSpec::named` names; others are reported missing).
    pub models: &'static [&'static str],
    pub kind: Kind,
    /// Part of the headline set that `smoke` and `quick` run by default
    /// (`full` runs every experiment; `--only` picks any).
    pub headline: bool,
}

/// Every experiment this build knows, in report order.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        id: "fig4.3",
        title: "White-box FGSM on MNIST",
        reference: "Fig. 4.3, §4.4; numbers of Table 4.11",
        models: &["cnn", "cnn-bin", "sap", "bnn-pgd", "bnn", "sgbn"],
        kind: Kind::FgsmCurve,
        headline: true,
    },
    Experiment {
        id: "fig4.4",
        title: "White-box BIM and ILL on MNIST",
        reference: "Fig. 4.4, §4.4 (a figure only: no numbers to compare)",
        // BNN (DT) is the BNN with PGD (deterministic ±1 weights).
        models: &["sgbn", "cnn-bin", "bnn-pgd", "bnn-st", "sap", "cnn"],
        kind: Kind::Iterative,
        headline: true,
    },
    Experiment {
        id: "fig4.6",
        title: "Black-box FGSM (ε = 0.3) transfer matrix",
        reference: "Fig. 4.6, §4.4; the SGBN and CNN-BIN rows of Table 4.8",
        models: &["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"],
        kind: Kind::Transfer {
            sources: &["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"],
            targets: &["sgbn", "sap", "bnn-pgd", "cnn-bin", "cnn"],
        },
        headline: true,
    },
    Experiment {
        id: "fig4.13",
        title: "SGBN with stochastic (ST) vs deterministic (DT) gates, white-box FGSM",
        reference: "Fig. 4.13, §4.6.2; numbers of Table 4.11",
        models: &["sgbn", "sgbn-dt"],
        kind: Kind::FgsmCurve,
        headline: true,
    },
    Experiment {
        id: "fig4.15",
        title: "FGSM (ε = 0.3) examples of SGBN ST and DT on the other models",
        reference: "Fig. 4.15, §4.6.2 (a figure only)",
        models: &["sgbn", "sgbn-dt", "cnn", "cnn-bin", "sap"],
        kind: Kind::Transfer {
            sources: &["sgbn", "sgbn-dt"],
            targets: &["sgbn", "sgbn-dt", "cnn", "cnn-bin", "sap"],
        },
        headline: true,
    },
    Experiment {
        id: "table4.11",
        title: "Table 4.11, MNIST rows: FGSM at ε 0, 0.1, 0.2, 0.3",
        reference: "Table 4.11, §4.7",
        models: &[
            "sgbn",
            "sgbn-dt",
            "bnn-pgd",
            "sap",
            "cnn-bin",
            "cnn",
            "random-mask",
            "dropconnect",
        ],
        kind: Kind::Table,
        headline: true,
    },
    Experiment {
        id: "table4.11-more",
        title: "Table 4.11, the other MNIST rows: 1W-SGBN, adaptive dropout and the (add params) baselines",
        reference: "Table 4.11, §4.6.3, §4.7 (Tables 4.12 for the added parameters)",
        models: &[
            "1w-sgbn",
            "ad-st",
            "ad-dt",
            "cnn-add-params",
            "cnn-bin-add-params",
            "sap-add-params",
            "bnn-pgd-add-params",
            "random-mask-add-params",
        ],
        kind: Kind::Table,
        headline: false,
    },
    Experiment {
        id: "adaptive",
        title: "Adaptive evaluation (beyond the thesis): PGD with EOT, Square, repeated passes",
        reference: "Athalye et al. 2018; Croce & Hein 2020; Andriushchenko et al. 2020",
        models: &["sgbn", "sgbn-dt", "bnn-pgd", "sap", "cnn-bin", "cnn"],
        kind: Kind::Adaptive,
        headline: true,
    },
];

/// The experiments named in `--only`, or an error naming the unknown id;
/// without `--only`, the headline set (every experiment when `all`).
pub fn select(only: &[String], all: bool) -> anyhow::Result<Vec<Experiment>> {
    if only.is_empty() {
        return Ok(EXPERIMENTS
            .iter()
            .filter(|e| all || e.headline)
            .copied()
            .collect());
    }
    only.iter()
        .map(|id| {
            EXPERIMENTS
                .iter()
                .find(|e| e.id == id)
                .copied()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown experiment {id:?}; known: {}",
                        EXPERIMENTS
                            .iter()
                            .map(|e| e.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        })
        .collect()
}

/// Whether sgbn can build this model yet.
pub fn available(model: &str) -> bool {
    sgbn_models::ModelSpec::named(model).is_ok()
}
