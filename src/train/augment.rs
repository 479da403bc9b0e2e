//! What a training step does to a batch's inputs before the forward pass, each off unless its
//! key asks: window slicing (`slice`: a random window of each series stretched back to the
//! series' length, Le Guennec et al. 2016), magnitude scaling (`scale_noise`: each series and
//! feature times its own random factor, Um et al. 2017) and Gaussian jitter (`noise`), in that
//! order. Every draw comes from tch's RNG, seeded by (seed, epoch) at each epoch's start, so a
//! resumed run draws the same; an augmentation that is off draws nothing, so the others'
//! draws, and every run without it, are unchanged.
use tch::{Kind, Tensor};

use crate::config::RunConfig;

/// A run's input augmentations, and the patch they need to undo to see a series' own steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Gaussian jitter's standard deviation (0: none).
    pub noise: f64,
    /// The standard deviation of each series' and feature's factor 1 + N(0, s) (0: none).
    pub scale: f64,
    /// The share of each series a sliced window keeps (1: no slicing).
    pub slice: f64,
    /// Values per feature in one step (the patch; 1 when unpatched).
    pub patch: i64,
}

impl Augment {
    /// A run's augmentations, from its config and its data's patch (values a step, if patched).
    pub fn of(cfg: &RunConfig, patch: Option<usize>) -> Augment {
        Augment {
            noise: cfg.noise.std(),
            scale: cfg.scale_noise,
            slice: cfg.slice,
            patch: patch.unwrap_or(1) as i64,
        }
    }

    /// `x` ([N, T, F], each series `lengths` steps long) as this step trains on it, or None when
    /// nothing is on.
    pub fn apply(&self, x: &Tensor, lengths: &Tensor) -> Option<Tensor> {
        let mut out: Option<Tensor> = None;
        if self.slice < 1.0 {
            out = Some(slice(x, lengths, self.slice, self.patch));
        }
        if self.scale > 0.0 {
            out = Some(scale(out.as_ref().unwrap_or(x), self.scale, self.patch));
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

/// `x` ([N, T, P·F]) with each series replaced by a window of `share` of its own raw steps
/// (L = its length in steps times P), starting at a uniform draw in [0, L - share·L], stretched
/// back to L steps by linear interpolation, then patched again: the same shape, a little
/// shifted and slower. Steps past a series' length stay zero.
fn slice(x: &Tensor, lengths: &Tensor, share: f64, patch: i64) -> Tensor {
    let size = x.size();
    let (n, t, pf) = (size[0], size[1], size[2]);
    let (f, raw_steps) = (pf / patch, t * patch);
    let (kind, device) = (x.kind(), x.device());
    let raw = x.reshape([n, raw_steps, f]);
    let len = (lengths * patch).to_kind(kind).unsqueeze(1); // [N, 1]
    let window = &len * share;
    let start = Tensor::rand([n, 1], (kind, device)) * (&len - &window);
    // Output step i of L reads the window at start + i·(window - 1)/(L - 1): its first and last
    // values land on the window's ends.
    let rate = (&window - 1.0).clamp_min(0.0) / (&len - 1.0).clamp_min(1.0);
    let i = Tensor::arange(raw_steps, (kind, device)).unsqueeze(0); // [1, L_max]
    let last = (&len - 1.0).clamp_min(0.0);
    let pos = (start + &i * rate).minimum(&last);
    let lo = pos.floor();
    let w = (&pos - &lo).unsqueeze(2);
    let lo = lo.to_kind(Kind::Int64);
    let hi = (&lo + 1).minimum(&last.to_kind(Kind::Int64));
    let at =
        |idx: &Tensor| raw.gather(1, &idx.unsqueeze(2).expand([n, raw_steps, f], false), false);
    let sliced: Tensor = at(&lo) * (1.0 - &w) + at(&hi) * &w;
    let real = i.lt_tensor(&len).unsqueeze(2).to_kind(kind);
    (sliced * real).reshape([n, t, pf])
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_whole_window_is_the_series_itself_and_a_slice_stretches_a_part_of_it() {
        // Two series of one feature, the second 3 steps long (then padding).
        let x = series(
            &[0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 0.0, 0.0],
            2,
            5,
            1,
        );
        let lengths = Tensor::from_slice(&[5i64, 3]);
        let whole = slice(&x, &lengths, 1.0, 1);
        assert_eq!(values(&whole), values(&x));
        let half = values(&slice(&x, &lengths, 0.5, 1));
        // The first series: a window 2.5 steps wide read at 5 evenly spaced points, a linear
        // ramp of slope 1.5/4 from its start; the second keeps its padding zero.
        let start = half[0];
        assert!((0.0..=2.5).contains(&start), "{half:?}");
        for (i, v) in half[..5].iter().enumerate() {
            let expected = start + i as f32 * 1.5 / 4.0;
            assert!((v - expected).abs() < 1e-5, "{half:?}");
        }
        assert!((10.0..=30.0).contains(&half[5]) && half[7] <= 30.0 && half[5] < half[7]);
        assert_eq!(half[8..], [0.0, 0.0]);
    }

    #[test]
    fn a_patched_series_is_sliced_along_its_own_steps() {
        // One series of 6 raw steps and 2 features, patched 2 steps a row: [3, 2·2].
        let raw: Vec<f32> = (0..6).flat_map(|s| [s as f32, 100.0 + s as f32]).collect();
        let x = series(&raw, 1, 3, 4);
        let whole = slice(&x, &Tensor::from_slice(&[3i64]), 1.0, 2);
        assert_eq!(values(&whole), raw);
        let part = values(&slice(&x, &Tensor::from_slice(&[3i64]), 0.6, 2));
        for s in 0..6 {
            // Each feature stays itself: the second is the first plus 100.
            assert!(
                (part[2 * s + 1] - part[2 * s] - 100.0).abs() < 1e-4,
                "{part:?}"
            );
        }
        assert!(part
            .chunks(2)
            .map(|c| c[0])
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] < w[1]));
    }

    #[test]
    fn scaling_multiplies_each_feature_of_each_series_by_one_factor() {
        let raw: Vec<f32> = (0..6).flat_map(|s| [1.0 + s as f32, -2.0]).collect();
        let x = series(&raw, 1, 3, 4);
        tch::manual_seed(0);
        let scaled = values(&scale(&x, 0.2, 2));
        let (a, b) = (scaled[0] / raw[0], scaled[1] / raw[1]);
        assert!((a - b).abs() > 1e-6, "two features, two factors");
        for s in 0..6 {
            assert!((scaled[2 * s] / raw[2 * s] - a).abs() < 1e-5);
            assert!((scaled[2 * s + 1] / raw[2 * s + 1] - b).abs() < 1e-5);
        }
    }
}
