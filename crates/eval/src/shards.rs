//! Splitting a plan's units of work over `N` processes (`cargo xtask
//! reproduce --shard K/N`): deterministic, balanced by cost, and keeping
//! each model's training with the evaluations that need it.

use std::{collections::BTreeMap, fmt, str::FromStr};

use crate::{EvalError, Result};

/// Shard `index` of `count` (`K/N` on the command line, 0 ≤ K < N).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 0.
    pub index: usize,
    /// N ≥ 1.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = EvalError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            EvalError::InvalidConfig(format!(
                "shard {s:?}: expected K/N with 0 ≤ K < N (e.g. 0/4; a Slurm array task is \
                 $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of each unit, given each unit's group (units of one group go
/// to one shard: a model's training and everything that needs only it)
/// and cost. Groups are placed largest first on the least-loaded shard
/// (ties: the group's name, then the lowest shard), so the assignment
/// depends only on the plan, never on the order of the input or the run.
pub fn assign_shards(groups: &[(&str, f64)], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
    for (g, cost) in groups {
        *totals.entry(g).or_insert(0.0) += cost.max(0.0);
    }
    let mut order: Vec<(&str, f64)> = totals.into_iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut load = vec![0.0f64; count];
    let mut shard_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (g, cost) in order {
        let (best, _) = load
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |(bi, bl), (i, l)| {
                    if *l < bl { (i, *l) } else { (bi, bl) }
                },
            );
        load[best] += cost;
        shard_of.insert(g, best);
    }
    groups.iter().map(|(g, _)| shard_of[g]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_parses_and_bad_forms_are_refused() {
        assert_eq!(
            "2/3".parse::<Shard>().expect("ok"),
            Shard { index: 2, count: 3 }
        );
        for bad in ["3/3", "1/0", "x/2", "1", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn groups_stay_together_and_loads_balance() {
        let groups = [
            ("a", 10.0),
            ("b", 9.0),
            ("a", 1.0),
            ("c", 5.0),
            ("d", 4.0),
            ("b", 0.5),
        ];
        let s = assign_shards(&groups, 2);
        assert_eq!(s[0], s[2], "group a split");
        assert_eq!(s[1], s[5], "group b split");
        let mut load = [0.0; 2];
        for ((_, c), k) in groups.iter().zip(&s) {
            load[*k] += c;
        }
        // a (11) and b (9.5) apart, then c (5) with b, d (4) with a.
        assert_eq!(load, [15.0, 14.5]);
        // Independent of the input order.
        let mut rev = groups;
        rev.reverse();
        let r = assign_shards(&rev, 2);
        let by_group = |gs: &[(&str, f64)], s: &[usize]| {
            let mut m: Vec<(String, usize)> = gs
                .iter()
                .zip(s)
                .map(|((g, _), k)| (g.to_string(), *k))
                .collect();
            m.sort();
            m.dedup();
            m
        };
        assert_eq!(by_group(&groups, &s), by_group(&rev, &r));
    }
}
