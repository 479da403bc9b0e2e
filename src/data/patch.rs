/*!
Patches: how many values of a sequence one timestep reads (the `patch` key).

A series of length L with F features, read P values per step, is ceil(L/P) steps of P·F
features: step t holds values tP .. tP+P-1 of every feature, in time order (value tP of every
feature, then value tP+1 of every feature, ...). A last, partial patch is filled with zeros,
and each sequence's length becomes ceil(length/P) steps, so the model never reads a step that
is all padding; values past a sequence's real end are zero in its last patch.

Images are read as their row-major pixels (a series of R·C values, one feature), so `patch`
counts pixels: P = C (a row: 28 for MNIST) is the classic reading and leaves the data exactly as
it was; P = 1 is pixel by pixel (784 steps), P = 112 is 7 steps of 4 rows.

`auto` picks P from the data: for images, a row; for series, 1 when the longest series has at
most 40 steps, else the smallest P that brings it to at most 32 steps, ceil(L/32) (GunPoint's
150 values: P = 5, 30 steps). One value per step over hundreds of steps is what keeps an LSTM
near chance on long series; a few dozen steps of a few values each is what it reads well, as it
reads MNIST's 28 rows.
*/
use tch::{Kind, Tensor};

use super::Split;
use crate::config::{Patch, Task};
use crate::error::UserError;

/// Steps at most that `auto` brings a long series to, and the length up to which it keeps one
/// value per step.
pub const AUTO_STEPS: i64 = 32;
pub const AUTO_KEEP: i64 = 40;

/// ceil(a / b) for positive b (i64's own `div_ceil` is not stable).
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// P for a series whose longest sequence has `seq_len` steps, under `auto`.
pub fn auto(seq_len: i64) -> usize {
    if seq_len <= AUTO_KEEP {
        1
    } else {
        ceil_div(seq_len, AUTO_STEPS) as usize
    }
}

/// What a run reads: `values` per step of the source's sequences, and the shape [T', F']
/// that makes. For images, `values` counts pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub values: usize,
    pub timesteps: i64,
    pub features: i64,
}

/// The reading of `patch` on data of `seq_len` steps of `features` (for images: R = `seq_len`
/// rows of C = `features` pixels).
pub fn reading(patch: Patch, seq_len: i64, features: i64, images: bool) -> Reading {
    let natural = Reading {
        values: if images { features as usize } else { 1 },
        timesteps: seq_len,
        features,
    };
    let p = match patch {
        Patch::Natural | Patch::Auto if images => return natural,
        Patch::Natural => return natural,
        Patch::Auto => auto(seq_len),
        Patch::Values(p) => p,
    };
    if p == natural.values {
        return natural;
    }
    // Images: R·C pixels of one feature; series: L steps of F features.
    let (len, f) = if images {
        (seq_len * features, 1)
    } else {
        (seq_len, features)
    };
    Reading {
        values: p,
        timesteps: ceil_div(len, p as i64),
        features: p as i64 * f,
    }
}

/// A patch of at most as many values as the longest sequence holds (`seq_len` steps; images:
/// R = `seq_len` rows of C = `features` pixels; a forecast's window): a longer one would read
/// every sequence as one step, mostly zeros, and is refused naming the key.
pub fn check(
    patch: Patch,
    seq_len: i64,
    features: i64,
    images: bool,
    task: Task,
) -> Result<(), UserError> {
    let (len, unit) = match (images, task) {
        (true, _) => (seq_len * features, "pixels of an image"),
        (false, Task::Forecast) => (seq_len, "steps of a forecast's input window"),
        (false, _) => (seq_len, "steps of the longest sequence"),
    };
    let Patch::Values(p) = patch else {
        return Ok(());
    };
    if p as i64 <= len {
        return Ok(());
    }
    // A forecast's window is a key too: a longer one takes the patch.
    let or = match (images, task) {
        (false, Task::Forecast) => format!(", or a window of at least {p} steps"),
        _ => String::new(),
    };
    Err(UserError::Config {
        origin: "patch".into(),
        message: format!(
            "patch = {p}: more values than the {len} {unit}: expected at most {len}, or \
             \"auto\"{or}"
        ),
    })
}

/// `split` read as `reading` says (`images`: its x is [N, R, C] pixels). The natural reading
/// returns the split unchanged (no copy, bit-identical).
pub fn apply(split: &Split, reading: Reading, images: bool) -> Split {
    let size = split.x.size();
    let (n, t, f) = (size[0], size[1], size[2]);
    if reading.timesteps == t && reading.features == f {
        return Split {
            x: split.x.shallow_clone(),
            y: split.y.shallow_clone(),
            lengths: split.lengths.shallow_clone(),
        };
    }
    let p = reading.values as i64;
    // As a series: [N, L, F] with each sequence's real length.
    let (x, lengths, f) = if images {
        let x = split.x.reshape([n, t * f, 1]);
        let lengths = &split.lengths * f;
        (x, lengths, 1)
    } else {
        (split.x.shallow_clone(), split.lengths.shallow_clone(), f)
    };
    let len = x.size()[1];
    let steps = ceil_div(len, p);
    // Zero every value past a sequence's real end (the last patch may hold some), then pad the
    // time axis to a whole number of patches.
    let real = Tensor::arange(len, (Kind::Int64, x.device()))
        .unsqueeze(0)
        .lt_tensor(&lengths.unsqueeze(1))
        .unsqueeze(2)
        .to_kind(x.kind());
    let x = (&x * real).constant_pad_nd([0, 0, 0, steps * p - len]);
    Split {
        x: x.reshape([n, steps, p * f]),
        y: split.y.shallow_clone(),
        lengths: (lengths + (p - 1)).floor_divide_scalar(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f32], n: i64, t: i64, f: i64, lengths: &[i64]) -> Split {
        Split {
            x: Tensor::from_slice(values).reshape([n, t, f]),
            y: Tensor::zeros([n], (Kind::Int64, tch::Device::Cpu)),
            lengths: Tensor::from_slice(lengths),
        }
    }

    fn values(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
    }

    #[test]
    fn a_series_is_read_p_values_of_every_feature_per_step() {
        // One series, 5 steps of 2 features: (1,10) (2,20) ... (5,50); P = 2.
        let s = series(
            &[1., 10., 2., 20., 3., 30., 4., 40., 5., 50.],
            1,
            5,
            2,
            &[5],
        );
        let r = reading(Patch::Values(2), 5, 2, false);
        assert_eq!(
            r,
            Reading {
                values: 2,
                timesteps: 3,
                features: 4
            }
        );
        let p = apply(&s, r, false);
        assert_eq!(p.x.size(), [1, 3, 4]);
        // The last patch is partial: its second value is padding (zero).
        assert_eq!(
            values(&p.x),
            [1., 10., 2., 20., 3., 30., 4., 40., 5., 50., 0., 0.]
        );
        assert_eq!(Vec::<i64>::try_from(&p.lengths).unwrap(), [3]);
    }

    #[test]
    fn unequal_lengths_keep_their_own_steps_and_no_value_past_their_end() {
        // Two series of one feature, 6 steps; the second is 3 long (its padding holds 9s, as
        // normalised padding may: they must not reach a patch).
        let s = series(
            &[1., 2., 3., 4., 5., 6., 7., 8., 9., 9., 9., 9.],
            2,
            6,
            1,
            &[6, 3],
        );
        let r = reading(Patch::Values(4), 6, 1, false);
        let p = apply(&s, r, false);
        assert_eq!(p.x.size(), [2, 2, 4]);
        assert_eq!(
            values(&p.x),
            [1., 2., 3., 4., 5., 6., 0., 0., 7., 8., 9., 0., 0., 0., 0., 0.]
        );
        // 6 values: 2 steps; 3 values: 1 step, so the all-padding step is never read.
        assert_eq!(Vec::<i64>::try_from(&p.lengths).unwrap(), [2, 1]);
    }

    #[test]
    fn images_are_read_in_pixels_and_a_row_is_the_image_unchanged() {
        let img: Vec<f32> = (0..28 * 28).map(|i| i as f32).collect();
        let s = Split::full_length(
            Tensor::from_slice(&img).reshape([1, 28, 28]),
            Tensor::from_slice(&[3i64]),
        );
        for patch in [Patch::Natural, Patch::Auto, Patch::Values(28)] {
            let r = reading(patch, 28, 28, true);
            assert_eq!((r.timesteps, r.features), (28, 28), "{patch:?}");
            let same = apply(&s, r, true);
            assert!(same.x.equal(&s.x));
        }
        let r = reading(Patch::Values(112), 28, 28, true);
        assert_eq!((r.timesteps, r.features), (7, 112));
        let p = apply(&s, r, true);
        // Step 1 is rows 4 to 7: pixels 112 .. 223.
        assert_eq!(values(&p.x.get(0).get(1))[..3], [112., 113., 114.]);
        assert_eq!(Vec::<i64>::try_from(&p.lengths).unwrap(), [7]);
        let r = reading(Patch::Values(1), 28, 28, true);
        assert_eq!((r.timesteps, r.features), (784, 1));
        assert_eq!(apply(&s, r, true).x.size(), [1, 784, 1]);
        // 100 pixels a step: 8 steps, the last one 84 pixels and 16 zeros.
        let r = reading(Patch::Values(100), 28, 28, true);
        let p = apply(&s, r, true);
        assert_eq!(p.x.size(), [1, 8, 100]);
        assert_eq!(values(&p.x.get(0).get(7))[83..86], [783., 0., 0.]);
    }

    #[test]
    fn a_patch_longer_than_a_sequence_is_refused_and_a_whole_one_is_not() {
        use crate::config::Task::{Classify, Forecast};
        assert!(check(Patch::Values(150), 150, 3, false, Classify).is_ok());
        assert!(check(Patch::Auto, 1, 1, false, Classify).is_ok());
        let e = check(Patch::Values(151), 150, 3, false, Classify).unwrap_err();
        assert!(
            e.to_string()
                .contains("patch = 151: more values than the 150 steps"),
            "{e}"
        );
        assert!(check(Patch::Values(784), 28, 28, true, Classify).is_ok());
        let e = check(Patch::Values(785), 28, 28, true, Classify).unwrap_err();
        assert!(e.to_string().contains("the 784 pixels of an image"), "{e}");
        let e = check(Patch::Values(25), 24, 1, false, Forecast).unwrap_err();
        assert!(
            e.to_string()
                .contains("the 24 steps of a forecast's input window"),
            "{e}"
        );
    }

    #[test]
    fn auto_keeps_short_series_and_brings_long_ones_to_at_most_32_steps() {
        assert_eq!(auto(29), 1); // JapaneseVowels
        assert_eq!(auto(40), 1);
        assert_eq!(auto(41), 2);
        assert_eq!(auto(150), 5); // GunPoint: 30 steps
        assert_eq!(auto(1639), 52);
        for len in [41, 100, 150, 500, 1639, 10_000] {
            let p = auto(len) as i64;
            assert!(ceil_div(len, p) <= AUTO_STEPS, "{len}");
            assert!(
                p == 1 || ceil_div(len, p - 1) > AUTO_STEPS,
                "{len}: not the smallest"
            );
        }
        let r = reading(Patch::Auto, 150, 1, false);
        assert_eq!((r.values, r.timesteps, r.features), (5, 30, 5));
    }
}
