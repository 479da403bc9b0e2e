//! What a training step does to a batch's inputs before the forward pass, each off unless its
//! key asks: magnitude scaling (`scale_noise`: each series' every feature times its own random
//! factor, Um et al. 2017), then Gaussian jitter (`noise`). Every draw comes from tch's RNG,
//! seeded by (seed, epoch) at each epoch's start, so a resumed run draws the same; an
//! augmentation that is off draws nothing, so the other's draws, and every run without it, are
//! unchanged. (Window slicing, Le Guennec et al. 2016, was measured and not kept: a classify
//! tutorial section says why.)
use tch::Tensor;

use crate::config::RunConfig;

/// A run's input augmentations, and the patch that scaling reads each feature through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Gaussian jitter's standard deviation (0: none).
    pub noise: f64,
    /// The standard deviation of each series' and feature's factor 1 + N(0, s) (0: none).
    pub scale: f64,
    /// Values per feature in one step (the patch; 1 when unpatched).
    pub patch: i64,
}

impl Augment {
    /// A run's augmentations, from its config and its data's patch (values a step, if patched).
    pub fn of(cfg: &RunConfig, patch: Option<usize>) -> Augment {
        Augment {
            noise: cfg.noise.std(),
            scale: cfg.scale_noise,
            patch: patch.unwrap_or(1) as i64,
        }
    }

    /// `x` ([N, T, F], each series `lengths` steps long) as this step trains on it, or None when
    /// nothing is on.
    pub fn apply(&self, x: &Tensor, lengths: &Tensor) -> Option<Tensor> {
        let mut out: Option<Tensor> = None;
        if self.scale > 0.0 {
            out = Some(scale(x, self.scale, self.patch));
        }
        if self.noise > 0.0 {
            out = Some(jitter(out.as_ref().unwrap_or(x), lengths, self.noise));
        }
        out
    }
}

/// `x` with Gaussian noise of standard deviation `std` on the batch's own steps: up to its
/// longest sequence, so that the draws depend on the training data alone, never on how far a
/// longer series of another split padded every split. Steps past a sequence's length are never
/// read; the zero fill of a last, partial patch is jittered like the values beside it.
fn jitter(x: &Tensor, lengths: &Tensor, std: f64) -> Tensor {
    let size = x.size();
    let steps = lengths.max().int64_value(&[]).clamp(1, size[1]);
    let noise = Tensor::randn([size[0], steps, size[2]], (x.kind(), x.device())) * std;
    let out = x.copy();
    let mut own = out.narrow(1, 0, steps);
    own += noise;
    out
}

/// `x` ([N, T, P·F], P values of F features a step) with each series' feature f multiplied by
/// its own factor 1 + N(0, std), the same at every step: louder and quieter copies of the
/// same shape. Padding stays zero.
fn scale(x: &Tensor, std: f64, patch: i64) -> Tensor {
    let size = x.size();
    let (n, t, pf) = (size[0], size[1], size[2]);
    let f = pf / patch;
    let factor = Tensor::randn([n, 1, 1, f], (x.kind(), x.device())) * std + 1.0;
    (x.reshape([n, t, patch, f]) * factor).reshape([n, t, pf])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn series(values: &[f32], n: i64, t: i64, f: i64) -> Tensor {
        Tensor::from_slice(values).reshape([n, t, f])
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(&t.reshape([-1])).unwrap()
    }

    #[test]
    fn nothing_on_changes_nothing_and_draws_nothing() {
        let x = series(&[1.0, 2.0, 3.0, 4.0], 1, 4, 1);
        tch::manual_seed(3);
        let none = Augment::of(&RunConfig::default(), None);
        assert!(none.apply(&x, &Tensor::from_slice(&[4i64])).is_none());
        let after = Tensor::rand([1], (Kind::Float, tch::Device::Cpu));
        tch::manual_seed(3);
        let fresh = Tensor::rand([1], (Kind::Float, tch::Device::Cpu));
        assert_eq!(values(&after), values(&fresh), "the RNG was not drawn from");
    }

    #[test]
    fn scaling_multiplies_each_feature_of_each_series_by_one_factor() {
        // Two series of 6 raw steps and 2 features, patched 2 steps a row: [2, 3, 2·2].
        let raw: Vec<f32> = (0..12).flat_map(|s| [1.0 + s as f32, -2.0]).collect();
        let x = series(&raw, 2, 3, 4);
        tch::manual_seed(0);
        let scaled = values(&scale(&x, 0.2, 2));
        let factor = |series: usize, feature: usize| {
            let at = 12 * series + feature;
            scaled[at] / raw[at]
        };
        let factors = [factor(0, 0), factor(0, 1), factor(1, 0), factor(1, 1)];
        for (i, a) in factors.iter().enumerate() {
            for b in &factors[i + 1..] {
                assert!(
                    (a - b).abs() > 1e-6,
                    "one factor per series and feature: {factors:?}"
                );
            }
        }
        for series in 0..2 {
            for step in 0..6 {
                for feature in 0..2 {
                    let at = 12 * series + 2 * step + feature;
                    let f = factor(series, feature);
                    assert!((scaled[at] / raw[at] - f).abs() < 1e-5, "{scaled:?}");
                }
            }
        }
    }
}
