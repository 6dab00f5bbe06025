//! Checks on a result read back from a cache file, before it is trusted:
//! a hand-edited or damaged entry (`"accuracy": 7.5`) must be recomputed,
//! never printed as "750.0 %". docs/robustness.md.

use serde_json::Value;

/// The JSON key under which a cache entry records the hash of the job it
/// answers ([`crate::key_hash`]); entries written before it existed have
/// none and are checked by their values alone.
pub const CACHE_KEY_FIELD: &str = "cache_key";

/// Fields that are fractions in [0, 1] wherever they occur in a result
/// (accuracies, rates, shares of examples or components).
const FRACTIONS: [&str; 15] = [
    "accuracy",
    "success_rate",
    "majority_vote",
    "unstable_fraction",
    "zero_gradient_examples",
    "zero_gradient_components",
    "zero_fraction",
    "agreement",
    "mean_probability",
    "per_pass",
    "train_accuracy",
    "validation_accuracy",
    "dense_unit_saturated",
    "gate_probability_saturated",
    "gate_state_saturated",
];

/// Fields that are never negative (times, counts, distortions, spreads).
const NON_NEGATIVE: [&str; 16] = [
    "seconds",
    "total",
    "examples",
    "n",
    "epochs",
    "mean_l1",
    "max_linf",
    "mean_linf",
    "mean_forward_passes",
    "variance",
    "std",
    "train_mse",
    "test_mse",
    "max_abs",
    "mean_abs",
    "slope",
];

/// Fields that are distances between images in [0, 1] (ℓ∞, and the mean
/// absolute ℓ1 per pixel of eq. 2.31).
const AT_MOST_ONE: [&str; 3] = ["max_linf", "mean_linf", "mean_l1"];

/// Distortion fields that bound each other within one result: per image the
/// mean absolute change is at most the largest, so the mean ℓ1 per pixel is
/// at most the mean ℓ∞, which is at most the largest ℓ∞.
const ORDERED_DISTORTIONS: [&str; 3] = ["mean_l1", "mean_linf", "max_linf"];

/// Whether the cache entry `value`, stored under the key hash
/// `expected_key`, can be trusted: the key it records (if any) is
/// `expected_key`, every number is finite, fractions lie in [0, 1],
/// counts, times and distortions are not negative, ℓ∞ distances at most 1.
/// The error names the first field that fails and its value.
pub fn check_cached_result(value: &Value, expected_key: &str) -> Result<(), String> {
    if let Some(stored) = value.get(CACHE_KEY_FIELD)
        && stored.as_str() != Some(expected_key)
    {
        return Err(format!(
            "stored under key {stored}, but its file name is for key {expected_key:?} \
                 (copied or renamed from another entry)"
        ));
    }
    check_value(value, "", "")
}

fn check_value(value: &Value, field: &str, path: &str) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            map.iter().try_for_each(|(k, v)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                check_value(v, k, &p)
            })?;
            check_ordered_distortions(map, path)
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_value(v, field, &format!("{path}[{i}]"))),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let fail = |rule: &str| Err(format!("{path} = {n} is not {rule}"));
            if !x.is_finite() {
                return fail("a finite number");
            }
            if FRACTIONS.contains(&field) && !(0.0..=1.0).contains(&x) {
                return fail("a fraction in [0, 1]");
            }
            if NON_NEGATIVE.contains(&field) && x < 0.0 {
                return fail("≥ 0");
            }
            if AT_MOST_ONE.contains(&field) && x > 1.0 {
                return fail("an ℓ∞ distance of [0, 1] images (≤ 1)");
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// [`ORDERED_DISTORTIONS`] in their order where an object holds them (a
/// rounding slack of 1e-9).
fn check_ordered_distortions(
    map: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<(), String> {
    let values: Vec<Option<f64>> = ORDERED_DISTORTIONS
        .iter()
        .map(|k| map.get(*k).and_then(Value::as_f64))
        .collect();
    for i in 0..values.len() {
        for j in i + 1..values.len() {
            if let (Some(a), Some(b)) = (values[i], values[j])
                && a > b + 1e-9
            {
                let at = |k: &str| {
                    if path.is_empty() {
                        k.to_string()
                    } else {
                        format!("{path}.{k}")
                    }
                };
                return Err(format!(
                    "{} = {a} is above {} = {b} (a mean distortion per pixel is at most the \
                     largest)",
                    at(ORDERED_DISTORTIONS[i]),
                    at(ORDERED_DISTORTIONS[j])
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sane_entry_passes_and_each_broken_field_is_named() {
        let good = json!({"accuracy": 0.75, "total": 1000, "seconds": 2.5,
            "cost": {"max_linf": 0.3, "mean_linf": 0.29, "mean_l1": 0.201}, "cache_key": "abc"});
        assert_eq!(check_cached_result(&good, "abc"), Ok(()));
        let cases = [
            (json!({"accuracy": 7.5}), "accuracy = 7.5"),
            (
                json!({"repeated": {"per_pass": [0.5, -0.1]}}),
                "repeated.per_pass[1] = -0.1",
            ),
            (json!({"seconds": -3.0}), "seconds = -3.0"),
            (json!({"cost": {"max_linf": 1.5}}), "cost.max_linf = 1.5"),
            // ℓ1 ×100 would print 750: a mean per pixel is at most 1 …
            (
                json!({"cost": {"mean_l1": 7.5, "max_linf": 0.3}}),
                "cost.mean_l1 = 7.5",
            ),
            // … and at most the largest ℓ∞ change.
            (
                json!({"cost": {"mean_l1": 0.5, "mean_linf": 0.3, "max_linf": 0.3}}),
                "cost.mean_l1 = 0.5 is above cost.mean_linf = 0.3",
            ),
            (
                json!({"cost": {"mean_linf": 0.3, "max_linf": 0.1}}),
                "cost.mean_linf = 0.3 is above cost.max_linf = 0.1",
            ),
            (
                json!({"log": [{"train_accuracy": 1.01}]}),
                "log[0].train_accuracy = 1.01",
            ),
        ];
        for (value, named) in cases {
            let err = check_cached_result(&value, "abc").expect_err("refused");
            assert!(err.contains(named), "{err} should name {named}");
        }
    }

    #[test]
    fn an_entry_recording_another_key_is_refused() {
        let v = json!({"accuracy": 0.5, "cache_key": "other"});
        let err = check_cached_result(&v, "abc").expect_err("refused");
        assert!(
            err.contains("\"other\"") && err.contains("\"abc\""),
            "{err}"
        );
        // Entries from before the key was recorded are checked by value.
        assert_eq!(
            check_cached_result(&json!({"accuracy": 0.5}), "abc"),
            Ok(())
        );
    }
}
