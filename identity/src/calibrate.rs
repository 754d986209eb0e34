//! Calibration on reviewed pairs. A registry's review queue produces labelled pairs (a person
//! decided "same child" or "different children"); these functions turn such pairs into a model
//! and thresholds. Used to choose the shipped configuration and, in the tests, to check that
//! what is chosen on some files holds on others.

use crate::compare::{Comparison, Field};
use crate::config::Thresholds;
use crate::matcher::Decision;
use crate::model::{FieldProbabilities, Model};

/// m- and u-probabilities counted from reviewed pairs: m over the pairs reviewed as `Match`, u
/// over those reviewed as `Not a Match` (`Possible` pairs say neither), with half a pair of
/// smoothing per level. `None` without pairs of both kinds.
pub fn model_from_reviews(reviewed: &[(Comparison, Decision)]) -> Option<Model> {
    let count = |label: Decision| -> Vec<Vec<f64>> {
        let mut counts: Vec<Vec<f64>> = Field::ALL
            .iter()
            .map(|f| vec![0.5; f.levels().len()])
            .collect();
        for (c, _) in reviewed.iter().filter(|(_, d)| *d == label) {
            for (i, level) in c.0.iter().enumerate() {
                if let Some(slot) = level.and_then(|l| counts[i].get_mut(l as usize)) {
                    *slot += 1.0;
                }
            }
        }
        counts
    };
    let matches = reviewed.iter().filter(|r| r.1 == Decision::Match).count();
    let non_matches = reviewed.iter().filter(|r| r.1 == Decision::NoMatch).count();
    if matches == 0 || non_matches == 0 {
        return None;
    }
    let (m, u) = (count(Decision::Match), count(Decision::NoMatch));
    let normalize = |c: &[f64]| {
        let total: f64 = c.iter().sum();
        c.iter().map(|x| x / total).collect::<Vec<f64>>()
    };
    Some(Model {
        prior: matches as f64 / (matches + non_matches) as f64,
        fields: Field::ALL
            .iter()
            .enumerate()
            .map(|(i, &field)| FieldProbabilities {
                field,
                m: normalize(&m[i]),
                u: normalize(&u[i]),
            })
            .collect(),
    })
}

/// Thresholds maximizing exact agreement with the reviews among those whose false merges (a
/// `Not a Match` pair at or above `match_at`) stay within `max_false_merge_rate` of the
/// `Not a Match` pairs. Pairs are (score, reviewed decision). Each threshold is placed midway
/// between the two scores it separates.
pub fn choose_thresholds(
    scored: &[(f64, Decision)],
    max_false_merge_rate: f64,
) -> Option<Thresholds> {
    let mut pairs: Vec<(f64, Decision)> =
        scored.iter().copied().filter(|s| s.0.is_finite()).collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pairs.len();
    // below[k][label]: pairs with index < k of that label; cut k puts pairs[..k] below.
    let slot = |d: Decision| match d {
        Decision::Match => 0,
        Decision::Possible => 1,
        Decision::NoMatch => 2,
    };
    let mut below = vec![[0u64; 3]; n + 1];
    for (k, p) in pairs.iter().enumerate() {
        below[k + 1] = below[k];
        below[k + 1][slot(p.1)] += 1;
    }
    let total = below[n];
    let budget = (max_false_merge_rate.max(0.0) * total[2] as f64).floor() as u64;
    // Only cuts between distinct scores are realizable.
    let cuts: Vec<usize> = (0..=n)
        .filter(|&k| k == 0 || k == n || pairs[k - 1].0 < pairs[k].0)
        .collect();
    let value = |k: usize| -> f64 {
        match k {
            0 => pairs[0].0 - 1.0,
            k if k == n => pairs[n - 1].0 + 1.0,
            k => (pairs[k - 1].0 + pairs[k].0) / 2.0,
        }
    };
    // For each possible-cut p, the best match-cut m >= p: agreement = NoMatch below p +
    // Possible in [p, m) + Match at or above m. The Match part and the Possible part at m are
    // independent of p, so keep the best m from the right.
    let mut best: Option<(u64, usize, usize)> = None;
    let mut best_m: Option<(i64, usize)> = None;
    for &p in cuts.iter().rev() {
        // Candidate m = p itself joins the running best over m >= p.
        let false_merges = total[2] - below[p][2];
        if false_merges <= budget {
            let gain = (total[0] - below[p][0]) as i64 + below[p][1] as i64;
            if best_m.is_none_or(|(g, _)| gain > g) {
                best_m = Some((gain, p));
            }
        }
        if let Some((gain, m)) = best_m {
            let agreed = below[p][2] as i64 - below[p][1] as i64 + gain;
            let agreed = agreed.max(0) as u64;
            if best.is_none_or(|(b, ..)| agreed > b) {
                best = Some((agreed, p, m));
            }
        }
    }
    best.map(|(_, p, m)| Thresholds {
        match_at: value(m),
        possible_at: value(p),
    })
}
