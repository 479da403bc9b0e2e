/*!
Errors of numeric predictions (regression, forecasting), in the target's own units: RMSE, MAE,
R² (1 - SSE / SST, around the truth's own mean) and MASE (MAE over a scale: the in-sample
seasonal-naive MAE, `data::forecast::mase_scale`), and the class a row of probabilities picks.
Pure functions of plain numbers, so that the training loop, the baselines, `predict` and the
report score alike.
*/
use serde::{Deserialize, Serialize};

/// The index of the largest value of `row` (the first of equals; 0 for an empty row): the class
/// a row of probabilities picks.
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, p) in row.iter().enumerate() {
        if *p > row[best] {
            best = i;
        }
    }
    best
}

/// One bound of a prediction interval around `forecast`: `offset` (minus the half-width for the
/// lower bound, plus it for the upper) added to it, or, where the network reads the target's
/// logarithm (`log`), the forecast times exp(offset): the interval is symmetric in the units
/// its errors were calibrated in.
pub fn interval_bound(forecast: f64, offset: f64, log: bool) -> f64 {
    match log {
        true => forecast * offset.exp(),
        false => forecast + offset,
    }
}

/// The half-width of a split-conformal interval at `level` (%) from the absolute errors of a
/// calibration set (Vovk et al.; Lei et al. 2018): the ceil((n + 1) level / 100)-th smallest,
/// which covers a new error from the same distribution with probability at least `level`. With
/// too few errors for the level (that rank above n), the largest, and `false`: the interval
/// then promises less than the level. None without errors.
pub fn conformal_half_width(abs_errors: &[f64], level: f64) -> Option<(f64, bool)> {
    let n = abs_errors.len();
    if n == 0 {
        return None;
    }
    let mut sorted = abs_errors.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((n + 1) as f64 * level / 100.0).ceil() as usize;
    Some((sorted[rank.clamp(1, n) - 1], rank <= n))
}

/// The share of `truth` inside [lo, hi], value by value (NaN for none).
pub fn coverage(truth: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
    let inside = (0..truth.len())
        .filter(|&i| lo[i] <= truth[i] && truth[i] <= hi[i])
        .count();
    inside as f64 / truth.len() as f64
}

/// The errors of predictions against the truth.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Errors {
    pub rmse: f64,
    pub mae: f64,
    /// Regression only: forecasts of a level have no single truth mean to compare with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Forecasts: MAE over the in-sample scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mase: Option<f64>,
}

impl Errors {
    /// The errors of `predicted` against `truth` (same length; NaN for none).
    pub fn of(predicted: &[f64], truth: &[f64]) -> Errors {
        let n = truth.len();
        if n == 0 {
            return Errors {
                rmse: f64::NAN,
                mae: f64::NAN,
                r2: None,
                mase: None,
            };
        }
        let nf = n as f64;
        let sse: f64 = predicted
            .iter()
            .zip(truth)
            .map(|(p, t)| (p - t).powi(2))
            .sum();
        let sae: f64 = predicted
            .iter()
            .zip(truth)
            .map(|(p, t)| (p - t).abs())
            .sum();
        let mean = truth.iter().sum::<f64>() / nf;
        let sst: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
        Errors {
            rmse: (sse / nf).sqrt(),
            mae: sae / nf,
            // None, not NaN, when the truth is constant: a NaN in an Option would read back
            // from JSON (null) as None and change a resumed run's records.
            r2: (sst > 0.0).then(|| 1.0 - sse / sst),
            mase: None,
        }
    }

    /// A forecast's errors: MASE over `scale` (none when the scale is 0), and no R².
    pub fn with_mase(self, scale: f64) -> Errors {
        Errors {
            r2: None,
            mase: (scale > 0.0).then(|| self.mae / scale),
            ..self
        }
    }

    /// The mean of several series' errors, each field over the series (MASE where every
    /// series has one; R² never): a panel's score. One series' errors are returned as they
    /// are.
    pub fn mean(each: &[Errors]) -> Errors {
        if let [one] = each {
            return *one;
        }
        let n = each.len() as f64;
        let avg = |f: fn(&Errors) -> f64| each.iter().map(f).sum::<f64>() / n;
        Errors {
            rmse: avg(|e| e.rmse),
            mae: avg(|e| e.mae),
            r2: None,
            mase: each
                .iter()
                .map(|e| e.mase)
                .sum::<Option<f64>>()
                .map(|s| s / n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A panel's errors are the mean over its series; one series' are its own, bit for bit.
    #[test]
    fn the_mean_of_series_errors() {
        let a = Errors::of(&[1.0, 2.0], &[2.0, 2.0]).with_mase(0.5);
        let b = Errors::of(&[0.0, 0.0], &[3.0, 3.0]).with_mase(2.0);
        assert_eq!(Errors::mean(&[a]), a);
        let m = Errors::mean(&[a, b]);
        assert_eq!(
            (m.mae, m.mase, m.r2),
            ((0.5 + 3.0) / 2.0, Some((1.0 + 1.5) / 2.0), None)
        );
        assert_eq!(m.rmse, (0.5f64.sqrt() + 3.0) / 2.0);
        let none = Errors::of(&[1.0], &[2.0]);
        assert_eq!(Errors::mean(&[a, none]).mase, None);
    }

    /// The conformal rank by hand, and coverage near nominal on errors of known noise.
    #[test]
    fn conformal_intervals_cover_their_level() {
        let errors: Vec<f64> = (1..=9).map(f64::from).collect();
        // n = 9: 80 % takes the ceil(10 * 0.8) = 8th smallest; 95 % would need the 10th.
        assert_eq!(conformal_half_width(&errors, 80.0), Some((8.0, true)));
        assert_eq!(conformal_half_width(&errors, 95.0), Some((9.0, false)));
        assert_eq!(conformal_half_width(&[], 80.0), None);
        // Calibrate on 400 draws of uniform noise on [-1, 1], test on 4,000 fresh ones.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut draw =
            |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let calibration: Vec<f64> = draw(400).iter().map(|e: &f64| e.abs()).collect();
        let fresh = draw(4000);
        for level in [50.0, 80.0, 95.0] {
            let (w, exact) = conformal_half_width(&calibration, level).unwrap();
            assert!(exact);
            // The half-width of uniform noise at `level` is level / 100.
            assert!((w - level / 100.0).abs() < 0.05, "{level}: {w}");
            let zeros = vec![0.0; fresh.len()];
            let lo: Vec<f64> = zeros.iter().map(|z| z - w).collect();
            let hi: Vec<f64> = zeros.iter().map(|z| z + w).collect();
            let c = coverage(&fresh, &lo, &hi);
            assert!((c - level / 100.0).abs() < 0.04, "{level}: coverage {c}");
        }
    }

    #[test]
    fn errors_by_hand() {
        // Errors 1, -2, 0, 1: SSE 6, SAE 4; truth mean 2.5, SST 5.
        let e = Errors::of(&[2.0, 0.0, 3.0, 5.0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.rmse, (6.0f64 / 4.0).sqrt());
        assert_eq!(e.mae, 1.0);
        assert_eq!(e.r2, Some(1.0 - 6.0 / 5.0));
        assert_eq!(e.with_mase(0.5).mase, Some(2.0));
        assert_eq!(e.with_mase(0.0).mase, None);
        assert_eq!(Errors::of(&[1.0, 2.0], &[3.0, 3.0]).r2, None);
        // Predicting the truth's mean gives R² = 0.
        assert_eq!(Errors::of(&[2.5; 4], &[1.0, 2.0, 3.0, 4.0]).r2, Some(0.0));
        assert!(Errors::of(&[], &[]).rmse.is_nan());
    }
}
