/*!
How much of the validation score one searched key explains on its own: η², the correlation
ratio (between-group sum of squares over total sum of squares). Categorical keys group trials
by value; numeric keys group them into at most `BINS` bins of (nearly) equal count along the
key's value, of at least two trials each (a bin of one trial would explain itself), trials of
one value always in one bin. A rough guide with few trials: a key that
fixes the score gets 1, one whose groups have equal means gets 0.
*/

/// At most this many bins of a numeric key.
pub const BINS: usize = 4;

/// η² of `scores` grouped by `groups` (one group index per score); None when there are fewer
/// than two scores or they are all equal (no variance to explain).
pub fn eta_squared(scores: &[f64], groups: &[usize]) -> Option<f64> {
    let n = scores.len();
    if n < 2 || groups.len() != n {
        return None;
    }
    let mean = scores.iter().sum::<f64>() / n as f64;
    let total: f64 = scores.iter().map(|s| (s - mean).powi(2)).sum();
    if total <= f64::EPSILON * mean.abs().max(1.0) * n as f64 {
        return None;
    }
    let k = groups.iter().copied().max().unwrap_or(0) + 1;
    let (mut sum, mut count) = (vec![0.0; k], vec![0usize; k]);
    for (&s, &g) in scores.iter().zip(groups) {
        sum[g] += s;
        count[g] += 1;
    }
    let between: f64 = (0..k)
        .filter(|&g| count[g] > 0)
        .map(|g| count[g] as f64 * (sum[g] / count[g] as f64 - mean).powi(2))
        .sum();
    Some((between / total).clamp(0.0, 1.0))
}

/// The bin of each value: the values in order split into `min(BINS, n / 2)` bins (at least
/// one) of nearly equal count, where a value takes the bin of the first trial of its value in that order (ties stay
/// together). The order is the same on a log scale, so log keys bin alike.
pub fn equal_count_bins(values: &[f64]) -> Vec<usize> {
    let n = values.len();
    let bins = BINS.min(n / 2).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut out = vec![0; n];
    let mut first = 0;
    for (rank, &i) in order.iter().enumerate() {
        if rank > 0 && values[i] != values[order[rank - 1]] {
            first = rank;
        }
        out[i] = first * bins / n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_fixes_the_score_explains_all_of_it() {
        let scores = [0.9, 0.9, 0.5, 0.5, 0.7];
        assert_eq!(eta_squared(&scores, &[0, 0, 1, 1, 2]), Some(1.0));
    }

    #[test]
    fn groups_with_equal_means_explain_none() {
        let scores = [1.0, 3.0, 2.0, 2.0];
        assert_eq!(eta_squared(&scores, &[0, 0, 1, 1]), Some(0.0));
    }

    #[test]
    fn a_small_case_by_hand() {
        // Means 1.5 and 3.5 around 2.5: between 2·1² + 2·1² = 4, total 2.25 + 0.25 + 0.25 +
        // 2.25 = 5, so η² = 0.8.
        let eta = eta_squared(&[1.0, 2.0, 3.0, 4.0], &[0, 0, 1, 1]).unwrap();
        assert!((eta - 0.8).abs() < 1e-12, "{eta}");
        // Equal scores leave nothing to explain; one score is no variance.
        assert_eq!(eta_squared(&[2.0, 2.0], &[0, 1]), None);
        assert_eq!(eta_squared(&[2.0], &[0]), None);
    }

    #[test]
    fn numeric_keys_bin_by_rank_with_ties_together() {
        // Eight values: four bins of two, whatever the input order.
        let v = [8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0];
        assert_eq!(equal_count_bins(&v), [3, 0, 3, 0, 2, 1, 2, 1]);
        // Three values: one bin (two of two trials would leave one of one).
        assert_eq!(equal_count_bins(&[0.03, 0.003, 0.01]), [0, 0, 0]);
        // Five: two bins, of three and two.
        assert_eq!(
            equal_count_bins(&[5.0, 4.0, 3.0, 2.0, 1.0]),
            [1, 1, 0, 0, 0]
        );
        // Ties never split: the four 16s share the bin of the first of them.
        assert_eq!(
            equal_count_bins(&[8.0, 16.0, 16.0, 16.0, 16.0, 32.0]),
            [0, 0, 0, 0, 0, 2]
        );
        // Binned by the score's key, a monotone score is fully explained by 4 bins of 2 only
        // in part: means 1.5, 3.5, 5.5, 7.5 around 4.5 give 40 of 42.
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let eta = eta_squared(&s, &equal_count_bins(&s)).unwrap();
        assert!((eta - 40.0 / 42.0).abs() < 1e-12, "{eta}");
    }
}
