/*!
The "auto" values of `val_size`, `batch_size`, `epochs` and `patience` (series data's defaults): rules that
fit a data set of 30 series or of 30,000, so that `rowseq train --dataset ts:DIR/NAME` trains
well with no other flag. The rule for `patch = "auto"` is `patch::auto`.

- `val_size`: each class with at least two training examples gives a fifth of them (rounded,
  at least one, and always leaving one for training) to a stratified validation split; a class
  with a single example keeps it for training. Images: the last fifth of the training set.
- `batch_size`: a tenth of the training split, rounded down to a power of two, from 4 to 128
  (and at most the split): about ten optimiser steps per epoch on small data.
- forecasting (`data::forecast`): `val_size`, `test_size` (0) and `window` resolve to the
  stretches and window the series was cut into.
- `epochs`: a budget of `STEPS` optimiser steps, `ceil(STEPS / batches per epoch)` epochs, at
  least `MIN_EPOCHS` and at most `MAX_EPOCHS`: 200 epochs of 10 steps for GunPoint's 40
  training series, `MIN_EPOCHS` on a large set.
- `noise` (series classification's default): Gaussian jitter on the scaled inputs while
  training, with a standard deviation of `NOISE_PER_CHANGE` times how much the training series
  change from one step to the next (`series::step_change`), at most `NOISE_CAP`: jagged series
  (JapaneseVowels' cepstra, change 0.26) get 0.5, smooth ones get a fraction of their own step
  (GunPoint, 0.08: 0.16), so the jitter never drowns the shape a class is told by. With
  `normalize = "none"` the scale of the values is the files' own, and there is none. Measured
  over 8 UEA/UCR problems (README, "Untuned defaults"): 0.5 everywhere lifted JapaneseVowels
  from 95.9 to 97.6 % and most others, but cost GunPoint 6 points; scaled by the change it
  keeps both.
- `patience` (numeric series tasks' default, with `keep = "best_val"`): a fifth of the epoch
  budget, at least `MIN_PATIENCE` epochs. Replayed on the recorded curves of the 42 runs of the
  sunspots, co2 and Covid3Month sweeps, it stopped at the best epoch of the whole budget in 40,
  after 61 % of the epochs on average.

A run resolves them once its data is split (`resolve`); the resolved config is what trains,
what progress shows, and what its result records beside the config it was asked for (whose
hash stays its id).
*/
use crate::config::{Count, Noise, Normalize, Patch, Resolved, RunConfig};

use super::Dataset;

/// Share of each class held out for validation.
pub const VAL_FRACTION: f64 = 0.2;
/// Optimiser steps of an "auto" training budget.
pub const STEPS: usize = 2000;
pub const MIN_EPOCHS: usize = 10;
pub const MAX_EPOCHS: usize = 1000;
/// Jitter of an "auto" noise: per unit of step-to-step change, and at most.
pub const NOISE_PER_CHANGE: f64 = 2.0;
pub const NOISE_CAP: f64 = 0.5;
/// An "auto" patience: this share of the epoch budget, and at least `MIN_PATIENCE` epochs.
pub const PATIENCE_FRACTION: f64 = 0.2;
pub const MIN_PATIENCE: usize = 10;
/// Bounds of an "auto" batch size.
pub const MIN_BATCH: usize = 4;
pub const MAX_BATCH: usize = 128;

/// Validation examples of each class, for class sizes `members` (see the module's rule).
pub fn val_quota(members: &[usize]) -> Vec<usize> {
    members
        .iter()
        .map(|&m| match m {
            0 | 1 => 0,
            m => ((m as f64 * VAL_FRACTION).round() as usize).clamp(1, m - 1),
        })
        .collect()
}

/// Validation images at the end of a training set of `n`.
pub fn val_images(n: usize) -> usize {
    ((n as f64 * VAL_FRACTION).round() as usize).clamp(1, n.saturating_sub(1).max(1))
}

/// The batch size for a training split of `n` examples.
pub fn batch_size(n: usize) -> usize {
    let tenth = (n / 10).max(1);
    let pow2 = 1usize << (usize::BITS - 1 - tenth.leading_zeros());
    pow2.clamp(MIN_BATCH, MAX_BATCH).min(n.max(1))
}

/// Epochs of `STEPS` optimiser steps (within the bounds) for `n` examples in batches of `batch`.
pub fn epochs(n: usize, batch: usize) -> usize {
    let per_epoch = n.div_ceil(batch.max(1)).max(1);
    STEPS.div_ceil(per_epoch).clamp(MIN_EPOCHS, MAX_EPOCHS)
}

/// The patience of a run of `epochs` epochs.
pub fn patience(epochs: usize) -> usize {
    ((epochs as f64 * PATIENCE_FRACTION).round() as usize).max(MIN_PATIENCE)
}

/// The standard deviation of an "auto" noise on data whose scaled training series change by
/// `step_change` from one step to the next (None: images or forecasting windows, no jitter).
pub fn noise(step_change: Option<f64>, normalize: Normalize) -> f64 {
    match (step_change, normalize) {
        (_, Normalize::None) | (None, _) => 0.0,
        (Some(c), _) => (NOISE_PER_CHANGE * c).min(NOISE_CAP),
    }
}

/// `cfg` with its "auto" values resolved on `data`, the run's split: the config that trains,
/// the only maker of a `Resolved` from a planned config. A config with none is returned as it
/// is (so resolving twice changes nothing).
pub fn resolve(cfg: &RunConfig, data: &Dataset) -> Resolved {
    let n = data.train.len();
    let batch = cfg.batch_size.fixed().unwrap_or_else(|| batch_size(n));
    // Forecasts count held-out stretches and the window in time steps.
    let (val_size, test_size, window, season) = match &data.forecast {
        // A panel holds out the same stretches of every series (`windows::split`).
        Some(f) => {
            let c = f.series[0].stretches;
            (
                c.val,
                c.test,
                Count::Fixed(c.window),
                Count::Fixed(f.season),
            )
        }
        None => (data.val.len(), cfg.test_size, cfg.window, cfg.season),
    };
    let budget = cfg.epochs.fixed().unwrap_or_else(|| epochs(n, batch));
    let resolved = RunConfig {
        // A given validation file validates with all its series, whatever val_size says.
        val_size: Count::Fixed(match cfg.val_split {
            crate::config::ValSplit::File => val_size,
            _ => cfg.val_size.fixed().unwrap_or(val_size),
        }),
        test_size,
        window,
        season,
        batch_size: Count::Fixed(batch),
        epochs: Count::Fixed(budget),
        patience: Count::Fixed(cfg.patience.fixed().unwrap_or_else(|| patience(budget))),
        patch: match cfg.patch {
            Patch::Auto => data.patch.map_or(Patch::Natural, Patch::Values),
            p => p,
        },
        // Forecasts record the transform their windows were read with (`windows::split`).
        transform: match &data.forecast {
            Some(f) if f.log => crate::config::Transform::Log,
            Some(_) => crate::config::Transform::None,
            None => cfg.transform,
        },
        noise: match cfg.noise {
            Noise::Auto => match noise(data.step_change, cfg.normalize) {
                0.0 => Noise::Off,
                x => Noise::Std(x),
            },
            n => n,
        },
        ..cfg.clone()
    };
    Resolved::new(resolved).expect("every auto value is resolved above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_with_two_examples_gives_one_to_validation() {
        // GunPoint: 24 and 26 training series.
        assert_eq!(val_quota(&[24, 26]), vec![5, 5]);
        // Tiny and imbalanced: a lone example stays for training, a pair gives one.
        assert_eq!(val_quota(&[1, 2, 3, 100]), vec![0, 1, 1, 20]);
        assert_eq!(val_quota(&[0]), vec![0]);
        // Never the whole class.
        assert!(val_quota(&[2, 3, 4, 7])
            .iter()
            .zip([2, 3, 4, 7])
            .all(|(&v, m)| v >= 1 && v < m));
    }

    #[test]
    fn batch_sizes_are_powers_of_two_about_a_tenth_of_the_data() {
        assert_eq!(batch_size(40), 4);
        assert_eq!(batch_size(216), 16);
        assert_eq!(batch_size(160), 16);
        assert_eq!(batch_size(30_000), 128);
        assert_eq!(batch_size(3), 3);
        assert_eq!(batch_size(0), 1);
    }

    #[test]
    fn auto_noise_follows_the_step_change_up_to_its_cap() {
        assert_eq!(noise(Some(0.08), Normalize::Feature), 0.16);
        assert_eq!(noise(Some(0.1), Normalize::Series), 0.2);
        assert_eq!(noise(Some(0.26), Normalize::Feature), NOISE_CAP);
        assert_eq!(noise(Some(1.5), Normalize::Feature), NOISE_CAP);
        // Unscaled values, images and forecasts: none.
        assert_eq!(noise(Some(0.3), Normalize::None), 0.0);
        assert_eq!(noise(None, Normalize::Feature), 0.0);
    }

    #[test]
    fn the_budget_is_in_steps_within_bounds() {
        assert_eq!(epochs(40, 4), 200);
        assert_eq!(epochs(216, 16), 143);
        assert_eq!(epochs(55_000, 128), MIN_EPOCHS);
        assert_eq!(epochs(1, 1), MAX_EPOCHS);
        assert_eq!(val_images(60_000), 12_000);
        assert_eq!(val_images(2), 1);
        assert_eq!(patience(200), 40);
        assert_eq!(patience(12), MIN_PATIENCE);
    }
}
