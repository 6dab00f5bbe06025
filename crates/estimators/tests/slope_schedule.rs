//! Slope schedules of the slope-annealing trick (eq. 2.12–2.13).

use sgbn_estimators::SlopeSchedule;

#[test]
fn thesis_schedule_is_linear_per_epoch_capped_at_five() {
    let s = SlopeSchedule::thesis();
    assert_eq!(s, SlopeSchedule::default());
    s.validate().expect("valid");
    for (epoch, m) in [(0, 1.0), (1, 1.04), (25, 2.0), (100, 5.0), (1000, 5.0)] {
        assert!((s.slope(epoch, 123_456) - m).abs() < 1e-12, "epoch {epoch}");
    }
}

#[test]
fn authors_schedule_multiplies_every_thousand_iterations() {
    let s = SlopeSchedule::authors_code();
    s.validate().expect("valid");
    assert_eq!(s.slope(9, 999), 1.0);
    assert!((s.slope(0, 1000) - 1.04).abs() < 1e-12);
    assert!((s.slope(0, 2999) - 1.04f64.powi(2)).abs() < 1e-12);
    // 1.04^41 = 4.99, 1.04^42 = 5.19 → capped.
    assert!(s.slope(0, 41_000) < 5.0);
    assert_eq!(s.slope(0, 42_000), 5.0);
    assert_eq!(s.slope(0, u64::MAX), 5.0);
}

#[test]
fn invalid_schedules_are_rejected() {
    let bad = [
        SlopeSchedule::Constant(0.0),
        SlopeSchedule::Constant(f64::NAN),
        SlopeSchedule::Linear {
            start: 1.0,
            rate: -0.1,
            max: 5.0,
        },
        SlopeSchedule::Linear {
            start: 2.0,
            rate: 0.1,
            max: 1.0,
        },
        SlopeSchedule::Geometric {
            start: 1.0,
            factor: 0.9,
            every: 10,
            max: 5.0,
        },
        SlopeSchedule::Geometric {
            start: 1.0,
            factor: 1.1,
            every: 0,
            max: 5.0,
        },
    ];
    for s in bad {
        assert!(s.validate().is_err(), "{s:?}");
    }
    SlopeSchedule::Constant(3.0).validate().expect("valid");
}
