/*!
The nearest-neighbour baselines of series classification: the test accuracy of the
1-nearest-neighbour classifier that labels each test series with the class of its closest
training series, under two distances, on the values as the files hold them (no scaling, as the
UCR/UEA archive's published figures):
- 1NN-ED: the squared Euclidean distance over all values (equal-length problems only);
- 1NN-DTW: dynamic time warping with a full window and a squared pointwise cost, through the
  `augurs-dtw` crate; for several features the dependent form DTW_D (one warping path over
  all features). Series of unequal lengths are warped end to end.

DTW costs the product of two series' lengths for each pair: where the sum of those products
over every (test, training) pair passes `DTW_CELLS` (about ten minutes of work), 1NN-DTW is
not computed and the run records none, rather than stalling before its first epoch.

Ties go to the first training series in file order. The univariate DTW abandons a training
series once its cost passes the best so far (augurs' `max_distance`), which changes no answer.
*/
use augurs_dtw::{Distance, Dtw};

use super::Split;

/// The test accuracies of the two 1-NN classifiers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NearestNeighbour {
    /// 1NN-ED; None when the series differ in length.
    pub ed: Option<f64>,
    /// 1NN-DTW (full window; DTW_D for several features); None past `DTW_CELLS`.
    pub dtw: Option<f64>,
}

/// The most cells of DTW's cost matrices (the sum over test and training pairs of their lengths'
/// product, times the features) that 1NN-DTW is computed for: PigCVP, the largest problem
/// tried, needs 8.7e10 and takes a few minutes on one core.
pub const DTW_CELLS: f64 = 2e11;

/// Each series of a split as its own values, `[len, features]` row-major, with its label.
struct Series {
    values: Vec<Vec<f64>>,
    labels: Vec<i64>,
    features: usize,
}

impl Series {
    fn of(split: &Split) -> Series {
        let size = split.x.size();
        let (n, t, f) = (size[0] as usize, size[1] as usize, size[2] as usize);
        let flat = Vec::<f64>::try_from(
            split
                .x
                .to_kind(tch::Kind::Double)
                .contiguous()
                .flatten(0, -1),
        )
        .expect("f64 values");
        let lengths = Vec::<i64>::try_from(&split.lengths).expect("int64 lengths");
        let values = (0..n)
            .map(|i| flat[i * t * f..(i * t + lengths[i] as usize) * f].to_vec())
            .collect();
        Series {
            values,
            labels: Vec::<i64>::try_from(&split.y).expect("int64 labels"),
            features: f,
        }
    }
}

/// The 1-NN test accuracies of `test` against `train` (labelled splits of raw series).
pub fn accuracy(train: &Split, test: &Split) -> NearestNeighbour {
    within(train, test, DTW_CELLS)
}

/// `accuracy`, with no DTW past `most_cells`.
fn within(train: &Split, test: &Split, most_cells: f64) -> NearestNeighbour {
    let (train, test) = (Series::of(train), Series::of(test));
    let equal = train
        .values
        .iter()
        .chain(&test.values)
        .all(|v| v.len() == train.values[0].len());
    let ed = equal.then(|| score(&train, &test, squared_euclidean));
    let steps = |s: &Series| -> f64 {
        let f = s.features.max(1) as f64;
        s.values.iter().map(|v| v.len() as f64 / f).sum()
    };
    let cells = steps(&train) * steps(&test) * train.features.max(1) as f64;
    let dtw = match (cells <= most_cells, train.features) {
        (false, _) => None,
        (true, 1) => Some(score(&train, &test, dtw_univariate)),
        (true, f) => Some(score(&train, &test, |a, b, best| {
            dtw_dependent(a, b, f, best)
        })),
    };
    NearestNeighbour { ed, dtw }
}

/// The fraction of test series whose nearest training series by `distance` has their label.
/// `distance` may stop early once past the bound it is given and answer the bound itself; the
/// bound (`above`) lies clearly above the best so far, so an abandoned series never ties with
/// it and a series at exactly the best distance is never abandoned.
/// The training series are visited nearest-by-ED first where ED exists, so that the bound is
/// tight early and most of them are abandoned; the answer is the same as in file order: the
/// smallest distance, the first in file order among equals.
fn score(train: &Series, test: &Series, distance: impl Fn(&[f64], &[f64], f64) -> f64) -> f64 {
    let equal = train
        .values
        .iter()
        .all(|v| Some(v.len()) == test.values.first().map(Vec::len));
    let right = test
        .values
        .iter()
        .zip(&test.labels)
        .filter(|(q, &label)| {
            let mut order: Vec<usize> = (0..train.values.len()).collect();
            if equal && std::env::var_os("NN_NOSORT").is_none() {
                let ed: Vec<f64> = train
                    .values
                    .iter()
                    .map(|c| squared_euclidean(q, c, 0.0))
                    .collect();
                order.sort_by(|&a, &b| ed[a].total_cmp(&ed[b]).then(a.cmp(&b)));
            }
            let mut best = (f64::INFINITY, usize::MAX);
            for i in order {
                let d = distance(q, &train.values[i], above(best.0));
                if d < best.0 || (d == best.0 && i < best.1) {
                    best = (d, i);
                }
            }
            train.labels[best.1] == label
        })
        .count();
    right as f64 / test.values.len() as f64
}

/// A bound just above `best`: a billionth more, and at least the smallest normal float, so that
/// its square, the cost augurs compares, is larger than `best`'s too, and so that it stays
/// above 0 where denormal floats count as 0 (`env::flush_denormals`).
fn above(best: f64) -> f64 {
    best * (1.0 + 1e-9) + f64::MIN_POSITIVE
}

fn squared_euclidean(a: &[f64], b: &[f64], _best: f64) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// DTW of two univariate series under augurs' Euclidean cost (the square root of the summed
/// squares, the same order as the sum), abandoned past `best`.
fn dtw_univariate(a: &[f64], b: &[f64], best: f64) -> f64 {
    let dtw = Dtw::euclidean();
    if best.is_finite() {
        dtw.with_max_distance(best).distance(a, b)
    } else {
        dtw.distance(a, b)
    }
}

/// DTW_D of two series of `f` features each, `[len, f]` row-major, with the squared Euclidean
/// distance between their points as the cost. augurs warps sequences of scalars, so it is
/// given the points' indices (those of `a` as 0..n, those of `b` from n on) and `Points` looks
/// the points up. Never abandoned: augurs would hand the bound to the cost as a point.
fn dtw_dependent(a: &[f64], b: &[f64], f: usize, _best: f64) -> f64 {
    let n = a.len() / f;
    let ia: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let ib: Vec<f64> = (0..b.len() / f).map(|j| (n + j) as f64).collect();
    Dtw::new(Points { a, b, n, f }).distance(&ia, &ib)
}

/// The points of two multivariate series, by the indices `dtw_dependent` numbers them with.
struct Points<'a> {
    a: &'a [f64],
    b: &'a [f64],
    n: usize,
    f: usize,
}

impl Points<'_> {
    fn point(&self, index: f64) -> &[f64] {
        let i = index as usize;
        if i < self.n {
            &self.a[i * self.f..(i + 1) * self.f]
        } else {
            &self.b[(i - self.n) * self.f..(i - self.n + 1) * self.f]
        }
    }
}

impl Distance for Points<'_> {
    #[inline]
    fn distance(&self, i: f64, j: f64) -> f64 {
        squared_euclidean(self.point(i), self.point(j), 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    /// A split of univariate series padded with zeros to the longest.
    fn split(series: &[&[f64]], labels: &[i64]) -> Split {
        let t = series.iter().map(|s| s.len()).max().unwrap();
        let mut flat = vec![0f32; series.len() * t];
        for (i, s) in series.iter().enumerate() {
            for (k, v) in s.iter().enumerate() {
                flat[i * t + k] = *v as f32;
            }
        }
        let lengths: Vec<i64> = series.iter().map(|s| s.len() as i64).collect();
        Split {
            x: Tensor::from_slice(&flat).view([series.len() as i64, t as i64, 1]),
            y: Tensor::from_slice(labels).to_kind(Kind::Int64),
            lengths: Tensor::from_slice(&lengths),
        }
    }

    #[test]
    fn dtw_matches_a_hand_computed_distance() {
        // a = [0, 1, 2], b = [0, 2]: the cheapest path (0,0) (1,1) (2,1) costs
        // 0 + 1 + 0 = 1 in squares, so augurs' Euclidean DTW is sqrt(1) = 1.
        assert_eq!(
            dtw_univariate(&[0.0, 1.0, 2.0], &[0.0, 2.0], f64::INFINITY),
            1.0
        );
        // a = [1, 3, 4, 9], b = [1, 4, 9]: (0,0) (1,1) (2,1) (3,2): 0 + 1 + 0 + 0 = 1.
        assert_eq!(
            dtw_univariate(&[1.0, 3.0, 4.0, 9.0], &[1.0, 4.0, 9.0], f64::INFINITY),
            1.0
        );
        // Two features: points (0,0) (1,1) (5,5) against (0,0) (5,5): (0,0) (1,0) (2,1)
        // = 0 + 2 + 0 = 2 (squared, summed over both features).
        let a = [0.0, 0.0, 1.0, 1.0, 5.0, 5.0];
        let b = [0.0, 0.0, 5.0, 5.0];
        assert_eq!(dtw_dependent(&a, &b, 2, f64::INFINITY), 2.0);
        // One feature by the dependent path is the square of the univariate distance.
        assert_eq!(
            dtw_dependent(&[1.0, 3.0, 4.0, 9.0], &[1.0, 4.0, 9.0], 1, 0.0),
            1.0
        );
        // Abandoning never makes a series look closer than the bound.
        assert!(dtw_univariate(&[0.0, 10.0], &[0.0, 0.0], 3.0) >= 3.0);
    }

    #[test]
    fn shifted_shapes_are_near_under_dtw_and_far_under_ed() {
        // Class 0: a bump early; class 1: a flat line. The test bump comes late: ED finds
        // the flat line closer, DTW warps the bump onto the training bump.
        let train = split(
            &[
                &[0.0, 5.0, 0.0, 0.0, 0.0, 0.0],
                &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            ],
            &[0, 1],
        );
        let test = split(&[&[0.0, 0.0, 0.0, 0.0, 5.0, 0.0]], &[0]);
        let nn = accuracy(&train, &test);
        assert_eq!(nn.ed, Some(0.0));
        assert_eq!(nn.dtw, Some(1.0));
        // Past the bound on DTW's cells (here 2 x 1 series of 6 steps: 72), no DTW.
        assert_eq!(within(&train, &test, 72.0).dtw, Some(1.0));
        assert_eq!(
            within(&train, &test, 71.0),
            NearestNeighbour {
                ed: Some(0.0),
                dtw: None
            }
        );
    }

    #[test]
    fn exact_matches_win_where_denormals_count_as_zero() {
        // The process runs with denormals flushed (main); a bound just above a best of 0
        // must not read as 0, or every abandoned series would tie with the exact match.
        crate::env::flush_denormals();
        let series: [&[f64]; 6] = [
            &[1.0, 2.0, 3.0],
            &[3.0, 2.0, 1.0],
            &[1.0, 2.0, 4.0],
            &[4.0, 2.0, 1.0],
            &[0.0, 2.0, 3.0],
            &[3.0, 1.0, 1.0],
        ];
        let labels = [0, 1, 0, 1, 0, 1];
        let nn = accuracy(&split(&series, &labels), &split(&series, &labels));
        assert_eq!(
            nn,
            NearestNeighbour {
                ed: Some(1.0),
                dtw: Some(1.0)
            }
        );
        assert!(above(0.0) > 0.0 && above(2.0) > 2.0 && above(2.0) * above(2.0) > 4.0);
    }

    #[test]
    fn unequal_lengths_have_no_ed_and_ties_go_to_the_first_series() {
        let train = split(&[&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 3.0]], &[1, 0]);
        let test = split(&[&[1.0, 2.0, 3.0, 3.0, 3.0]], &[1]);
        // Both training series warp onto the test series at cost 0: the first wins.
        let nn = accuracy(&train, &test);
        assert_eq!(
            nn,
            NearestNeighbour {
                ed: None,
                dtw: Some(1.0)
            }
        );
    }
}
