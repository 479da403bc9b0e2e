/*!
Forecasting from one long series (`task = "forecast"`, `dataset = "csv:SERIES.csv"`): the CSV
file, its chronological split, and the windows a run trains and is scored on.

The file and how it is read: `table`.

Split: the last `test_size` steps are the test stretch, the `val_size` before them validation,
the rest training (`auto`: `HELD_OUT` of the series each, at least `horizon`). A window is the
`window` steps up to a time t, all variables, and its target the next `horizon` values of the
target; a window belongs to the split its targets lie in, so no window sees a value of a later
split, while validation and test windows may read earlier values (the past is known when one
forecasts). Every variable is z-scored with its mean and std over the training stretch only;
targets are the target's z-scores, predictions are mapped back to its units for every metric.

Baselines on the same windows: naive (the last value of the window, for every step ahead) and
seasonal naive (the value one season before each target, `season = m`; the naive one when
there is no season). MASE divides a forecast's MAE by the mean absolute error of the in-sample
seasonal-naive one-step forecast on the training stretch (naive when m = 0), as Hyndman and
Koehler (2006) define it.
*/

use tch::Tensor;

use super::Split;
use crate::config::{Decompose, Normalize, RunConfig};
use crate::error::UserError;

/// Share of the series each held-out stretch (validation, test) takes under `auto`.
pub const HELD_OUT: f64 = 0.15;
/// An `auto` window without a season.
pub const AUTO_WINDOW: usize = 24;

mod table;
#[cfg(test)]
pub use table::parse;
pub use table::{read, Panel, Table, EVERY_COLUMN};

/// Where a series is cut: `train` steps, then `val`, then `test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretches {
    pub train: usize,
    pub val: usize,
    pub test: usize,
    pub window: usize,
}

/// A value of the target from one in the units the network reads it in: exp of it where it
/// reads the target's logarithm (`transform = "log"`), else itself.
pub fn unread(read: f64, log: bool) -> f64 {
    match log {
        true => read.exp(),
        false => read,
    }
}

/// The `auto` window: two seasons, or `AUTO_WINDOW` steps without a season, and at most a
/// quarter of the training stretch.
pub fn auto_window(season: usize, train_steps: usize) -> usize {
    let w = if season > 0 { 2 * season } else { AUTO_WINDOW };
    w.min(train_steps / 4).max(1)
}

/// The stretches of a series of `steps` for `cfg`, or the error that says why it cannot be cut.
pub fn stretches(steps: usize, cfg: &RunConfig) -> Result<Stretches, UserError> {
    let h = cfg.horizon;
    let auto = ((steps as f64 * HELD_OUT).round() as usize).max(h);
    let val = cfg.val_size.fixed().unwrap_or(auto);
    let test = if cfg.test_size == 0 {
        auto
    } else {
        cfg.test_size
    };
    for (key, v) in [("val_size", val), ("test_size", test)] {
        if v < h {
            return Err(UserError::Config {
                origin: key.into(),
                message: format!(
                    "{key} = {v}: expected at least horizon = {h} time steps (a stretch holds \
                     the targets of its windows)"
                ),
            });
        }
    }
    let train = steps.saturating_sub(val + test);
    // The in-sample seasonal-naive error needs a season inside the training stretch.
    let season = cfg.season.fixed().unwrap_or(0);
    if season > 0 && season + 1 >= train {
        return Err(UserError::Config {
            origin: "season".into(),
            message: format!(
                "season = {}: the training stretch has {train} steps ({steps} less {val} for \
                 validation and {test} for test): expected a season shorter than it, so that \
                 MASE's in-sample seasonal-naive error exists",
                season
            ),
        });
    }
    let window = cfg
        .window
        .fixed()
        .unwrap_or_else(|| auto_window(season, train));
    // At least two training windows: window + horizon + 1 steps.
    if train < window + h + 1 {
        return Err(UserError::Config {
            origin: "window".into(),
            message: format!(
                "window = {window}, horizon = {h}: the series has {steps} steps, and \
                 {val} + {test} are held out for validation and test, leaving {train}: \
                 expected at least window + horizon + 1 = {} training steps (a shorter window, \
                 or smaller val_size and test_size)",
                window + h + 1
            ),
        });
    }
    Ok(Stretches {
        train,
        val,
        test,
        window,
    })
}

/// The time t of each window's last input step, per split: training windows have all their
/// targets t+1 ..= t+h in the training stretch, validation ones in validation, test ones in
/// test.
pub fn origins(s: &Stretches, horizon: usize) -> [Vec<usize>; 3] {
    let (w, h) = (s.window, horizon);
    let span = |first_target: usize, end: usize| -> Vec<usize> {
        // Targets t+1 .. t+h within [first_target, end), inputs t-w+1 .. t from step 0 on.
        let lo = first_target.max(w) - 1;
        (lo..end.saturating_sub(h)).collect()
    };
    let v0 = s.train;
    let t0 = s.train + s.val;
    [span(0, v0), span(v0, t0), span(t0, t0 + s.test)]
}

/// Mean and std (population; 1 where it is 0) of each variable over the first `steps` steps.
pub fn stats(table: &Table, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let f = table.features();
    let mut mean = vec![0.0; f];
    let mut std = vec![0.0; f];
    for j in 0..f {
        let col: Vec<f64> = (0..steps).map(|t| table.values[t * f + j]).collect();
        let m = col.iter().sum::<f64>() / steps as f64;
        let var = col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / steps as f64;
        mean[j] = m;
        std[j] = if var > 0.0 { var.sqrt() } else { 1.0 };
    }
    (mean, std)
}

/// How forecast windows are read: the training stretch's per-variable `mean` and `std`,
/// `relative` to each window's last step (`normalize = "last"`) or not, and the `season` whose
/// classical indices are taken out of the target (`decompose = "classical"`; 0 for none).
#[derive(Clone, Copy, Debug)]
pub struct WindowScale<'a> {
    pub mean: &'a [f64],
    pub std: &'a [f64],
    pub relative: bool,
    pub season: usize,
    /// The season whose phase every step carries as two more inputs (`calendar`; 0: none).
    pub calendar: usize,
}

impl<'a> WindowScale<'a> {
    /// How `cfg` (its season resolved) reads windows with the training stretch's statistics:
    /// the same for training and for `predict`.
    pub fn of(cfg: &RunConfig, mean: &'a [f64], std: &'a [f64]) -> WindowScale<'a> {
        WindowScale {
            mean,
            std,
            relative: cfg.normalize == Normalize::Last,
            season: match cfg.decompose {
                Decompose::Classical => cfg.season.fixed().unwrap_or(0),
                Decompose::None => 0,
            },
            calendar: match cfg.calendar {
                true => cfg.season.fixed().unwrap_or(0),
                false => 0,
            },
        }
    }

    /// Inputs a step carries beyond the series' variables: the calendar's two.
    pub fn extra_features(&self) -> usize {
        if self.calendar > 1 {
            2
        } else {
            0
        }
    }
}

/// Cycles of each phase that `seasonal_indices` averages: the seven of STL's default seasonal
/// window (Cleveland et al. 1990), not tuned.
pub const SEASONAL_CYCLES: usize = 7;

/// The classical seasonal indices of `y` with season `m` (index p for the steps s with s mod m
/// = p): each step's value less its trend, a centred moving average over one season (2 x m
/// for an even m, as in X-11 and R's `decompose`), averaged per phase over the latest
/// `SEASONAL_CYCLES` steps of that phase whose average exists, then centred to sum to zero.
/// Reads `y` alone, so a window's indices come from the values up to its last step. All zero
/// where no step has a whole season around it (fewer than m + 1 steps, m for an odd m).
pub fn seasonal_indices(y: &[f64], m: usize) -> Vec<f64> {
    let (n, h) = (y.len(), m / 2);
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for s in (h..n.saturating_sub(h)).rev() {
        let p = s % m;
        if counts[p] == SEASONAL_CYCLES {
            continue;
        }
        let trend = if m % 2 == 1 {
            y[s - h..=s + h].iter().sum::<f64>() / m as f64
        } else {
            (0.5 * y[s - h] + y[s - h + 1..s + h].iter().sum::<f64>() + 0.5 * y[s + h]) / m as f64
        };
        sums[p] += y[s] - trend;
        counts[p] += 1;
    }
    let raw: Vec<f64> = (0..m)
        .map(|p| match counts[p] {
            0 => 0.0,
            c => sums[p] / c as f64,
        })
        .collect();
    let mean = raw.iter().sum::<f64>() / m as f64;
    raw.iter().map(|r| r - mean).collect()
}

/// The window of `window` steps ending at t, read as `scale` says: its inputs ([window * F]
/// row-major), the scaled targets at t+1 ..= t+`horizon` when `targets` (they must exist),
/// and for each step ahead the centre, in the target's units, that a scaled output is relative
/// to: the forecast is output * target std + centre. Every variable is (value - its centre) /
/// std, the centre its value at t (`relative`) or its mean; with a season, the target's values
/// first lose the seasonal indices of the values up to t, which the centres add back.
fn read_window(
    table: &Table,
    t: usize,
    (window, horizon): (usize, usize),
    scale: WindowScale,
    targets: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f64>) {
    let (f, j0, m) = (table.features(), table.target, scale.season);
    let at = |s: usize, j: usize| table.values[s * f + j];
    let indices = (m > 0).then(|| {
        let y: Vec<f64> = (0..=t).map(|s| at(s, j0)).collect();
        seasonal_indices(&y, m)
    });
    let seasonal = |s: usize| indices.as_ref().map_or(0.0, |i| i[s % m]);
    let value = |s: usize, j: usize| match j == j0 {
        true => at(s, j) - seasonal(s),
        false => at(s, j),
    };
    let centre = |j: usize| match scale.relative {
        true => value(t, j),
        false => scale.mean[j],
    };
    let z = |s: usize, j: usize| ((value(s, j) - centre(j)) / scale.std[j]) as f32;
    // The calendar's inputs: the sine and cosine of the step's phase in the season.
    let phase = |s: usize| {
        let a = std::f64::consts::TAU * (s % scale.calendar.max(1)) as f64 / scale.calendar as f64;
        [a.sin() as f32, a.cos() as f32]
    };
    let extra = scale.extra_features();
    let x = (t + 1 - window..=t)
        .flat_map(|s| {
            (0..f)
                .map(move |j| z(s, j))
                .chain(phase(s).into_iter().take(extra))
        })
        .collect();
    let y = match targets {
        true => (1..=horizon).map(|k| z(t + k, j0)).collect(),
        false => Vec::new(),
    };
    let centres = (1..=horizon)
        .map(|k| centre(j0) + seasonal(t + k))
        .collect();
    (x, y, centres)
}

/// The windows ending at `origins` as a split, x [N, window, F] and y [N, horizon], every
/// window full length, read as `scale` says (`read_window`), and each target's centre
/// ([N * horizon] row-major): under `normalize = "last"` without a season, the window's last
/// value, so that the target is the change from it.
pub fn windows(
    table: &Table,
    origins: &[usize],
    window: usize,
    horizon: usize,
    scale: WindowScale,
) -> (Split, Vec<f64>) {
    let f = table.features() + scale.extra_features();
    let mut x = Vec::with_capacity(origins.len() * window * f);
    let mut y = Vec::with_capacity(origins.len() * horizon);
    let mut centres = Vec::with_capacity(origins.len() * horizon);
    for &t in origins {
        let (wx, wy, wc) = read_window(table, t, (window, horizon), scale, true);
        x.extend(wx);
        y.extend(wy);
        centres.extend(wc);
    }
    let n = origins.len() as i64;
    let split = Split::full_length(
        Tensor::from_slice(&x).view([n, window as i64, f as i64]),
        Tensor::from_slice(&y).view([n, horizon as i64]),
    );
    (split, centres)
}

/// The one window ending at step `last` (no target: what `predict` forecasts from), read as
/// `windows` reads: x [1, window, F], y [1, 0], and the centre of each of the `horizon` values
/// after it.
pub fn windows_for_prediction(
    table: &Table,
    last: usize,
    (window, horizon): (usize, usize),
    scale: WindowScale,
) -> (Split, Vec<f64>) {
    let f = table.features() + scale.extra_features();
    let (x, _, centres) = read_window(table, last, (window, horizon), scale, false);
    let split = Split::full_length(
        Tensor::from_slice(&x).view([1, window as i64, f as i64]),
        Tensor::zeros([1, 0], (tch::Kind::Float, tch::Device::Cpu)),
    );
    (split, centres)
}

/// The in-sample scale of MASE: the mean absolute change over `m` steps (1 without a season)
/// of the first `train` values of `y` (0 for a constant stretch: `split_forecast` refuses it).
pub fn mase_scale(y: &[f64], train: usize, season: usize) -> f64 {
    let m = season.max(1);
    let diffs: Vec<f64> = (m..train).map(|t| (y[t] - y[t - m]).abs()).collect();
    diffs.iter().sum::<f64>() / diffs.len().max(1) as f64
}

/// The naive forecasts of the windows ending at `origins`, [N * horizon] row-major: the
/// window's last value for every step ahead.
pub fn naive(y: &[f64], origins: &[usize], horizon: usize) -> Vec<f64> {
    origins
        .iter()
        .flat_map(|&t| std::iter::repeat_n(y[t], horizon))
        .collect()
}

/// The seasonal-naive forecasts (season `m`; naive when 0): for step k ahead of t, the value
/// of the latest time t + k - j·m (j >= 1) that is not after t.
pub fn seasonal_naive(y: &[f64], origins: &[usize], horizon: usize, season: usize) -> Vec<f64> {
    if season == 0 {
        return naive(y, origins, horizon);
    }
    origins
        .iter()
        .flat_map(|&t| {
            (1..=horizon).map(move |k| {
                let back = k.div_ceil(season) * season;
                y[t + k - back]
            })
        })
        .collect()
}

/// The truth of the windows ending at `origins`, [N * horizon] row-major.
pub fn truth(y: &[f64], origins: &[usize], horizon: usize) -> Vec<f64> {
    origins
        .iter()
        .flat_map(|&t| (1..=horizon).map(move |k| y[t + k]))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The one series of a plain file.
    fn parse(text: &str, path: &Path, cfg: &RunConfig) -> Result<Table, UserError> {
        table::parse(text, path, cfg).map(|p| p.tables.into_iter().next().expect("a series"))
    }
    use crate::config::Fill;
    use crate::config::{Count, Task};

    fn cfg(val: usize, test: usize, window: usize, horizon: usize) -> RunConfig {
        RunConfig {
            dataset: "csv:s.csv".into(),
            task: Task::Forecast,
            val_size: Count::Fixed(val),
            test_size: test,
            window: Count::Fixed(window),
            horizon,
            ..RunConfig::default()
        }
    }

    #[test]
    fn no_window_reads_or_predicts_a_value_of_a_later_split() {
        for (n, val, test, w, h) in [(40, 6, 8, 5, 1), (40, 6, 8, 5, 3), (100, 10, 10, 12, 4)] {
            let s = stretches(n, &cfg(val, test, w, h)).unwrap();
            let [train, v, te] = origins(&s, h);
            let (v0, t0) = (s.train, s.train + s.val);
            // Training windows: inputs and targets inside the training stretch.
            assert!(train.iter().all(|&t| t + 1 >= w && t + h < v0));
            // Validation: targets in validation, inputs before the test stretch.
            assert!(v.iter().all(|&t| t + 1 > v0 - 1 && t < t0 && t + h < t0));
            assert!(v.iter().all(|&t| t + 1 >= v0));
            // Test: targets in the test stretch, within the series.
            assert!(te.iter().all(|&t| t + 1 >= t0 && t + h < n));
            // Every target position of a stretch is predicted by some window.
            assert_eq!(v.len(), val - h + 1);
            assert_eq!(te.len(), test - h + 1);
            assert_eq!(train.len(), v0 - w - h + 1);
        }
    }

    #[test]
    fn a_test_value_never_reaches_a_training_window() {
        // The series counts its steps; training windows must hold only values < train.
        let n = 30;
        let table = Table {
            names: vec!["y".into()],
            target: 0,
            values: (0..n).map(|t| t as f64).collect(),
            steps: n,
            calendar: None,
        };
        let c = cfg(5, 5, 4, 2);
        let s = stretches(n, &c).unwrap();
        let [train, _, _] = origins(&s, 2);
        let scale = WindowScale {
            mean: &[0.0],
            std: &[1.0],
            relative: false,
            season: 0,
            calendar: 0,
        };
        let (split, _) = windows(&table, &train, s.window, 2, scale);
        let max_x = split.x.max().double_value(&[]);
        let max_y = split.y.max().double_value(&[]);
        assert!(
            max_x < s.train as f64 && max_y < s.train as f64,
            "{max_x} {max_y}"
        );
        assert_eq!(max_y, (s.train - 1) as f64);
    }

    /// The indices recover a known season under a trend, sum to zero and follow the phase of
    /// the step's absolute position; a window's inputs and centres read nothing after its
    /// last step, its targets nothing after the last one.
    #[test]
    fn seasonal_indices_recover_the_season_from_the_past_alone() {
        let pattern = [3.0, -1.0, -2.0, 0.0];
        let y: Vec<f64> = (0..40).map(|t| 0.5 * t as f64 + pattern[t % 4]).collect();
        let idx = seasonal_indices(&y, 4);
        for (got, want) in idx.iter().zip(pattern) {
            assert!((got - want).abs() < 1e-12, "{idx:?}");
        }
        // Odd seasons take a plain moving average; too short a series has none.
        let odd: Vec<f64> = (0..30).map(|t| [1.0, -2.0, 1.0][t % 3]).collect();
        assert!(seasonal_indices(&odd, 3)
            .iter()
            .zip([1.0, -2.0, 1.0])
            .all(|(g, w)| (g - w).abs() < 1e-12));
        assert_eq!(seasonal_indices(&y[..4], 4), vec![0.0; 4]);
        // A window's reading ignores every later value.
        let table = |values: Vec<f64>| Table {
            names: vec!["y".into()],
            target: 0,
            steps: values.len(),
            values,
            calendar: None,
        };
        let scale = WindowScale {
            mean: &[0.0],
            std: &[2.0],
            relative: true,
            season: 4,
            calendar: 0,
        };
        let read = |v: &[f64]| read_window(&table(v.to_vec()), 30, (8, 3), scale, true);
        let mut later = y.clone();
        later[31..].iter_mut().for_each(|v| *v *= 10.0);
        let (a, b) = (read(&y), read(&later));
        assert_eq!(
            (&a.0, &a.2),
            (&b.0, &b.2),
            "inputs and centres read only up to t = 30"
        );
        later[..34].copy_from_slice(&y[..34]);
        assert_eq!(
            read(&y),
            read(&later),
            "targets read only up to t + horizon"
        );
        // The targets are the deseasonalised changes, and output 0 forecasts the last
        // deseasonalised value plus each step's index.
        let (_, targets, centres) = read(&y);
        for k in 1..=3 {
            let centre = y[30] - pattern[30 % 4] + pattern[(30 + k) % 4];
            assert!((centres[k - 1] - centre).abs() < 1e-9, "{centres:?}");
            let target = (y[30 + k] - centre) / 2.0;
            assert!((targets[k - 1] as f64 - target).abs() < 1e-6, "{targets:?}");
        }
    }

    fn panel_cfg() -> RunConfig {
        RunConfig {
            id_column: "store".into(),
            date_column: "date".into(),
            ..cfg(1, 1, 1, 1)
        }
    }

    /// A long panel: rows grouped by id in the order ids first appear, each series' rows in
    /// file order, the id column never a variable (even when its ids are numbers).
    #[test]
    fn a_long_panel_is_read_series_by_series() {
        let text = "store,date,sales\n7,2000-01,1\n8,2000-01,10\n7,2000-02,2\n8,2000-02,20\n\
                    7,2000-03,3\n";
        let p = table::parse(text, Path::new("p.csv"), &panel_cfg()).unwrap();
        assert_eq!(p.ids, ["7", "8"]);
        assert!(p.is_panel());
        assert_eq!(p.tables[0].values, [1.0, 2.0, 3.0]);
        assert_eq!(p.tables[1].values, [10.0, 20.0]);
        assert_eq!(p.tables[0].names, ["sales"]);
        // A wide file: every column read is a series, named by its header.
        let wide = RunConfig {
            target_column: EVERY_COLUMN.into(),
            date_column: "date".into(),
            ..cfg(1, 1, 1, 1)
        };
        let p = table::parse("date,a,b\n2000,1,5\n2001,2,6\n", Path::new("w.csv"), &wide).unwrap();
        assert_eq!(p.ids, ["a", "b"]);
        assert_eq!(p.tables[1].values, [5.0, 6.0]);
        // Under the default id_column, an "id" column of numbers is a variable, and one of a
        // single label no panel: plain series files read as they did before panels.
        let plain = cfg(1, 1, 1, 1);
        let p = table::parse(
            "id,y\n1,5\n2,6\n",
            Path::new("s.csv"),
            &RunConfig {
                target_column: "y".into(),
                ..plain.clone()
            },
        )
        .unwrap();
        assert_eq!(
            (p.is_panel(), p.tables[0].names.clone()),
            (false, vec!["id".into(), "y".into()])
        );
        let p = table::parse("id,y\nshop,5\nshop,6\n", Path::new("s.csv"), &plain).unwrap();
        assert!(!p.is_panel());
        let p = table::parse("id,y\na,5\nb,6\n", Path::new("s.csv"), &plain).unwrap();
        assert_eq!(p.ids, ["a", "b"]);
        // A plain file is one series without an id.
        let p = table::parse("t,y\nx,1\ny,2\n", Path::new("s.csv"), &cfg(1, 1, 1, 1)).unwrap();
        assert_eq!(
            (p.ids.as_slice(), p.is_panel()),
            (&[String::new()][..], false)
        );
    }

    #[test]
    fn bad_panels_are_errors_naming_the_line_and_key() {
        let err = |text: &str, c: &RunConfig| {
            table::parse(text, Path::new("p.csv"), c)
                .unwrap_err()
                .to_string()
        };
        let e = err(
            "store,date,y\na,2000-01,1\nb,2000-01,2\na,2000-01,3\n",
            &panel_cfg(),
        );
        assert!(
            e.contains("p.csv:4: series \"a\": date \"2000-01\" repeats line 2"),
            "{e}"
        );
        let e = err("store,date,y\na,2000-02,1\na,2000-01,2\n", &panel_cfg());
        assert!(e.contains("p.csv:3: column \"date\""), "{e}");
        let e = err("store,date,y\n,2000-01,1\n", &panel_cfg());
        assert!(e.contains("p.csv:2: column \"store\": no id"), "{e}");
        let e = err("shop,date,y\na,2000-01,1\n", &panel_cfg());
        assert!(
            e.starts_with("id_column: id_column = \"store\": no such column in p.csv"),
            "{e}"
        );
        let both = RunConfig {
            target_column: EVERY_COLUMN.into(),
            ..panel_cfg()
        };
        let e = err("store,date,y\na,2000-01,1\n", &both);
        assert!(
            e.starts_with("target_column: target_column = \"*\" reads a wide file"),
            "{e}"
        );
    }

    /// In a panel, every series is cut on its own: no window of any series reads a value of a
    /// later stretch of its own series, or any value of another series.
    #[test]
    fn no_window_of_a_panel_reads_a_later_stretch_or_another_series() {
        // Series k counts 1000 k + t: a value names its series and step.
        let mut text = String::from("store,y\n");
        for t in 0..40 {
            for k in 0..3 {
                if t < 30 + 5 * k {
                    text.push_str(&format!("s{k},{}\n", 1000 * k + t));
                }
            }
        }
        let c = RunConfig {
            id_column: "store".into(),
            normalize: crate::config::Normalize::None,
            ..cfg(5, 5, 4, 2)
        };
        let p = table::parse(&text, Path::new("p.csv"), &c).unwrap();
        for (k, table) in p.tables.iter().enumerate() {
            let s = stretches(table.steps, &c).unwrap();
            assert_eq!(s.train, table.steps - 10);
            let [train, val, _] = origins(&s, 2);
            let scale = WindowScale {
                mean: &[0.0],
                std: &[1.0],
                relative: false,
                season: 0,
                calendar: 0,
            };
            let lo = 1000.0 * k as f64;
            for (o, end) in [(&train, s.train), (&val, s.train + s.val)] {
                let (split, _) = windows(table, o, s.window, 2, scale);
                for v in [split.x.min(), split.y.min()] {
                    assert!(v.double_value(&[]) >= lo);
                }
                for v in [split.x.max(), split.y.max()] {
                    assert!(v.double_value(&[]) < lo + end as f64);
                }
            }
        }
    }

    /// `calendar`: every input step carries the sine and cosine of its row's phase in the
    /// season after the series' own values.
    #[test]
    fn calendar_inputs_are_the_phase_of_each_step() {
        let table = Table {
            names: vec!["y".into()],
            target: 0,
            values: (0..30).map(|t| t as f64).collect(),
            steps: 30,
            calendar: None,
        };
        let scale = WindowScale {
            mean: &[0.0],
            std: &[1.0],
            relative: false,
            season: 0,
            calendar: 4,
        };
        assert_eq!(scale.extra_features(), 2);
        let (x, _, _) = read_window(&table, 9, (3, 1), scale, true);
        assert_eq!(x.len(), 3 * 3);
        for (k, s) in (7..=9).enumerate() {
            let a = std::f64::consts::TAU * (s % 4) as f64 / 4.0;
            assert_eq!(
                x[3 * k..3 * k + 3],
                [s as f32, a.sin() as f32, a.cos() as f32]
            );
        }
        let none = WindowScale {
            calendar: 0,
            ..scale
        };
        assert_eq!(none.extra_features(), 0);
        assert_eq!(
            read_window(&table, 9, (3, 1), none, true).0,
            [7.0, 8.0, 9.0]
        );
    }

    #[test]
    fn baselines_and_scale_by_hand() {
        let y = [1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 22.0];
        // Naive: the last value; seasonal naive with m = 2: one season back.
        assert_eq!(naive(&y, &[3], 2), vec![7.0, 7.0]);
        assert_eq!(seasonal_naive(&y, &[3], 3, 2), vec![4.0, 7.0, 4.0]);
        assert_eq!(seasonal_naive(&y, &[3], 2, 0), vec![7.0, 7.0]);
        assert_eq!(truth(&y, &[3, 4], 2), vec![11.0, 16.0, 16.0, 22.0]);
        // In-sample scale on the first 5 values: |2-1|, |4-2|, |7-4|, |11-7| -> 2.5; m = 2:
        // |4-1|, |7-2|, |11-4| -> 5.
        assert_eq!(mase_scale(&y, 5, 0), 2.5);
        assert_eq!(mase_scale(&y, 5, 2), 5.0);
    }

    #[test]
    fn a_season_must_fit_in_the_training_stretch() {
        let c = RunConfig {
            season: Count::Fixed(80),
            ..cfg(10, 10, 4, 1)
        };
        let e = stretches(100, &c).unwrap_err().to_string();
        assert!(
            e.starts_with("season: season = 80: the training stretch has 80 steps"),
            "{e}"
        );
        assert!(stretches(
            100,
            &RunConfig {
                season: Count::Fixed(12),
                ..c
            }
        )
        .is_ok());
    }

    #[test]
    fn a_gap_in_the_first_row_does_not_hide_a_column() {
        let c = RunConfig {
            target_column: "y".into(),
            ..cfg(1, 1, 1, 1)
        };
        let e = parse("date,y\nd0,\nd1,2\n", Path::new("s.csv"), &c)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.csv:2: column \"y\": \"\": expected a finite number"),
            "{e}"
        );
    }

    #[test]
    fn gaps_are_filled_as_fill_says_and_refused_by_default() {
        let text = "t,x,y\n0,1,10\n1,,NaN\n2,NA,?\n3,4,40\n4,5,\n";
        let with = |fill: Fill| RunConfig {
            target_column: "y".into(),
            columns: "x,y".into(),
            fill,
            ..cfg(1, 1, 1, 1)
        };
        let e = parse(text, Path::new("s.csv"), &with(Fill::None))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.csv:3: column \"x\": \"\": expected a finite number"),
            "{e}"
        );
        assert!(e.contains("fill = \"interpolate\""), "{e}");
        // ffill carries the last value across every gap, also at the end.
        let t = parse(text, Path::new("s.csv"), &with(Fill::Ffill)).unwrap();
        let col = |t: &Table, c: usize| -> Vec<f64> {
            (0..t.steps).map(|s| t.values[s * 2 + c]).collect()
        };
        assert_eq!(col(&t, 0), [1.0, 1.0, 1.0, 4.0, 5.0]);
        assert_eq!(col(&t, 1), [10.0, 10.0, 10.0, 40.0, 40.0]);
        // interpolate draws a line across a gap, and cannot fill one at the end.
        let e = parse(text, Path::new("s.csv"), &with(Fill::Interpolate))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.csv:6: column \"y\": a missing value at the series' end"),
            "{e}"
        );
        let t = parse(
            &text.replace("4,5,\n", "4,5,50\n"),
            Path::new("s.csv"),
            &with(Fill::Interpolate),
        )
        .unwrap();
        assert_eq!(col(&t, 0), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(col(&t, 1), [10.0, 20.0, 30.0, 40.0, 50.0]);
        // Nothing comes before a gap in the first row; text is never a gap.
        let one = |fill| RunConfig {
            columns: "y".into(),
            ..with(fill)
        };
        let e = parse("t,y\n0,\n1,2\n", Path::new("s.csv"), &one(Fill::Ffill))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.csv:2: column \"y\": a missing value at the series' start"),
            "{e}"
        );
        assert!(e.contains("cannot be filled (fill = \"ffill\")"), "{e}");
        // An "NA" in the first row hides no column either (without `columns`).
        let e = parse(
            "t,y\n0,NA\n1,2\n",
            Path::new("s.csv"),
            &RunConfig {
                columns: String::new(),
                ..with(Fill::Interpolate)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("s.csv:2: column \"y\": a missing value at the series' start"),
            "{e}"
        );
        let e = parse("t,y\n0,1\n1,abc\n", Path::new("s.csv"), &one(Fill::Ffill))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"abc\": expected a finite number"), "{e}");
    }

    #[test]
    fn short_series_and_short_stretches_are_errors_naming_the_key() {
        let e = stretches(20, &cfg(5, 5, 8, 2)).unwrap_err().to_string();
        assert!(
            e.starts_with("window: window = 8, horizon = 2: the series has 20 steps"),
            "{e}"
        );
        let e = stretches(100, &cfg(2, 10, 8, 3)).unwrap_err().to_string();
        assert!(
            e.starts_with("val_size: val_size = 2: expected at least horizon = 3"),
            "{e}"
        );
    }

    #[test]
    fn bad_cells_name_their_line_and_column() {
        let c = RunConfig {
            target_column: "y".into(),
            ..cfg(1, 1, 1, 1)
        };
        for (text, want) in [
            (
                "date,y\n2000,1\n2001,\n",
                "s.csv:3: column \"y\": \"\": expected a finite number",
            ),
            (
                "date,y\n2000,1\n2001,NaN\n",
                "s.csv:3: column \"y\": \"NaN\"",
            ),
            (
                "date,y\n2000,1\n2001,abc\n",
                "s.csv:3: column \"y\": \"abc\"",
            ),
        ] {
            let e = parse(text, Path::new("s.csv"), &c).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let t = parse("date,y,x\nd1,1,2\nd2,3,4\n", Path::new("s.csv"), &c).unwrap();
        assert_eq!(
            (t.names.clone(), t.target, t.values.clone()),
            (vec!["y".into(), "x".into()], 0, vec![1.0, 2.0, 3.0, 4.0])
        );
        let e = parse("date,y,x\nd1,1,2\n", Path::new("s.csv"), &cfg(1, 1, 1, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("several numeric columns (y, x)"), "{e}");
    }
}
