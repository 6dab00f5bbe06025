//! Every attack against a small CNN trained here on MNIST.

use rand::SeedableRng;
use sgbn_attacks::{
    Attack, EvalClassifier, GradientAttack, SquareAttack, SquareAttackConfig, attack_dataset,
    predict_dataset,
};
use sgbn_data::{available_mnist_dir, load_mnist};
use sgbn_defenses::{Quiet, TrainConfig, train};
use sgbn_estimators::SeededRng;
use sgbn_models::{ConvNet, ModelSpec};

#[test]
fn each_attack_lowers_accuracy_and_bim_beats_fgsm() {
    let Some(dir) = available_mnist_dir() else {
        eprintln!("skipped: no MNIST (a packaged build ships none; set SGBN_DATA_DIR)");
        return;
    };
    let mnist = load_mnist(&dir).expect("MNIST");
    let train_set = mnist.train.first(3000).expect("train");
    let test = mnist.test.first(200).expect("test");
    let net = ConvNet::new(
        &ModelSpec::named("cnn").expect("cnn"),
        0,
        &candle_core::Device::Cpu,
    )
    .expect("cnn");
    let config = TrainConfig {
        epochs: 2,
        early_stopping: None,
        ..TrainConfig::default()
    };
    let report = train(&net, &train_set, None, &config, None, &mut Quiet).expect("training");
    let victim = EvalClassifier::new(&net, report.final_slope);
    let labels: Vec<u32> = test.labels().to_vec1().expect("labels");
    let acc = |pred: &[u32]| pred.iter().zip(&labels).filter(|(p, y)| p == y).count();
    let clean = acc(&predict_dataset(
        &victim,
        test.images(),
        100,
        &mut SeededRng::seed_from_u64(0),
    )
    .expect("clean"));
    assert!(
        clean >= 160,
        "the CNN learned too little to attack: {clean} / 200"
    );

    let eps = 0.2;
    let attacks: Vec<Box<dyn Attack>> = vec![
        Box::new(GradientAttack::fgsm(eps).expect("fgsm")),
        Box::new(GradientAttack::bim(eps, 0.02, 10).expect("bim")),
        Box::new(GradientAttack::ill(eps, 0.02, 10).expect("ill")),
        Box::new(GradientAttack::pgd(eps, 0.02, 10).expect("pgd")),
        Box::new(
            SquareAttack::new(SquareAttackConfig {
                queries: 100,
                ..SquareAttackConfig::new(eps)
            })
            .expect("square"),
        ),
    ];
    let mut success = Vec::new();
    for attack in &attacks {
        let out = attack_dataset(
            attack.as_ref(),
            &victim,
            test.images(),
            test.labels(),
            100,
            &mut SeededRng::seed_from_u64(1),
        )
        .expect("attack");
        let adv = acc(&out.predictions);
        assert!(
            adv < clean,
            "{}: accuracy {adv} not below clean {clean}",
            attack.name()
        );
        success.push(out.success.iter().filter(|s| **s).count());
    }
    let (fgsm, bim) = (success[0], success[1]);
    assert!(bim >= fgsm, "BIM fooled {bim}, FGSM {fgsm}");
}
