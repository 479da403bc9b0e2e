/*!
Memorisation capacity, for a sweep with `labels = "random"` runs (`configs/capacity.toml`):
how many random labels each width fits, in bits, against its parameters, beside what the same
widths and training-set sizes do with the data's own labels. Drawn in `capacity.{svg,png}`
(`figure`) and a section of `report.md` (`section`); other sweeps get neither.

A width's capacity is the largest training set whose random labels it fits (`FITTED` of them
or more), in bits: log₂C a label of C classes. That set is smaller than the next larger set
tried, which the width did not fit; where it fitted the largest set it was given, the
number is a lower bound: more data would have shown more. Beside it, Collins, Sohl-Dickstein
and Sussillo's (2017) measure of partial fits: a run that fits a share `a` of `n` labels has
stored n · I(a) bits, I(a) = log₂C + a log₂a + (1 − a) log₂((1 − a) / (C − 1)) being what its
predictions tell of each label when the misses fall evenly on the other classes (log₂C at a =
1, 0 at chance); the most of it any size gave a width counts the partly memorised sets too,
and goes on rising with the training budget long after the largest set fitted has stopped
moving.
*/
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::inputs::Inputs;
use crate::config::Labels;
use crate::records::RunResult;
use crate::summary::thousands;

mod figure;

/// The figure's file stem.
pub const FIGURE: &str = "capacity";
/// A training set counts as fitted at this accuracy or more.
pub const FITTED: f64 = 0.98;
/// Collins et al.'s measured capacity of the common recurrent cells, in bits per parameter.
pub const COLLINS_BITS_PER_PARAM: f64 = 5.0;

/// One width and training-set size under one kind of labels (the mean over its seeds).
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub units: i64,
    pub params: i64,
    pub size: usize,
    /// The kept model's accuracy on its own training split (`train_fit_acc`).
    pub fit: f64,
    pub test_acc: f64,
    pub seeds: usize,
}

/// One width's capacity, from its random-label cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Width {
    pub units: i64,
    pub params: i64,
    /// The largest size fitted to `FITTED`, if any: the capacity, in labels.
    pub fitted: Option<usize>,
    /// The smallest size above `fitted` (any size, when none was fitted) that the width did not
    /// fit: its capacity is below it. None where it fitted the largest size it was given.
    pub missed: Option<usize>,
    /// The most bits of partial fits (n · I(a)) any size stored, and that size.
    pub partial_bits: f64,
    pub at_size: usize,
    /// A size below `fitted` that the width did not fit, where there is one (a fit that is
    /// not monotone in N: the table marks it).
    pub missed_below: Option<usize>,
}

impl Width {
    /// The capacity in bits: all labels of the largest size fitted (0 for none).
    pub fn fitted_bits(&self, classes: usize) -> f64 {
        self.fitted.map_or(0.0, |n| bits(n, 1.0, classes))
    }

    /// The bits of all labels of the size it missed, which its largest size fitted is below.
    pub fn missed_bits(&self, classes: usize) -> Option<f64> {
        self.missed.map(|n| bits(n, 1.0, classes))
    }

    /// Whether it fitted the largest size it was given: its capacity is more than it shows.
    pub fn lower_bound(&self) -> bool {
        self.fitted.is_some() && self.missed.is_none()
    }
}

/// What the figure and the section show.
pub struct Capacity {
    pub classes: usize,
    pub random: Vec<Cell>,
    pub given: Vec<Cell>,
    pub widths: Vec<Width>,
}

/// The bits that fitting a share `acc` of `n` random labels of `classes` classes stores.
pub fn bits(n: usize, acc: f64, classes: usize) -> f64 {
    let c = classes as f64;
    if classes < 2 || !acc.is_finite() || acc <= 1.0 / c {
        return 0.0;
    }
    let a = acc.min(1.0);
    let plogp = |p: f64| if p > 0.0 { p * p.log2() } else { 0.0 };
    let miss = match a < 1.0 {
        true => (1.0 - a) * ((1.0 - a) / (c - 1.0)).log2(),
        false => 0.0,
    };
    n as f64 * (c.log2() + plogp(a) + miss)
}

impl Capacity {
    /// The capacity of `inputs`' runs, when some trained on random labels.
    pub fn of(inputs: &Inputs) -> Option<Capacity> {
        let random = cells(&inputs.results, Labels::Random);
        if random.is_empty() {
            return None;
        }
        let classes = inputs.shape.classes().max(0) as usize;
        let widths = widths(&random, classes);
        Some(Capacity {
            classes,
            given: cells(&inputs.results, Labels::Given),
            random,
            widths,
        })
    }
}

/// The cells of the runs under `labels` that recorded their fit, by width then size. Runs of
/// one config over seeds are averaged; where other keys vary too (a learning rate), each width
/// and size keeps the config that fitted most: capacity is the most any recipe stored.
fn cells(results: &[RunResult], labels: Labels) -> Vec<Cell> {
    let runs: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.config.labels == labels && fit_of(r).is_finite())
        .collect();
    let configs: Vec<crate::config::RunConfig> =
        runs.iter().map(|r| r.config.without_seed()).collect();
    let mut cells: Vec<Cell> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        if configs[..i].contains(config) {
            continue;
        }
        let mine: Vec<&&RunResult> = runs
            .iter()
            .filter(|r| r.config.without_seed() == *config)
            .collect();
        let mean = |f: &dyn Fn(&RunResult) -> f64| {
            mine.iter().map(|r| f(r)).sum::<f64>() / mine.len() as f64
        };
        let cell = Cell {
            units: config.num_units,
            params: mine[0].params,
            size: mine[0].train_size,
            fit: mean(&fit_of),
            test_acc: mean(&|r| r.test_acc),
            seeds: mine.len(),
        };
        match cells.iter_mut().find(|c| c.same_place(&cell)) {
            Some(c) if cell.fit > c.fit => *c = cell,
            Some(_) => {}
            None => cells.push(cell),
        }
    }
    cells.sort_by_key(|c| (c.units, c.params, c.size));
    cells
}

/// What a run fits of its training set: the kept model's measured fit (`train_fit_acc`), or,
/// for the data's own labels without it, its last epoch's training accuracy; NaN for neither.
fn fit_of(r: &RunResult) -> f64 {
    match (r.train_fit_acc, r.config.labels) {
        (Some(fit), _) => fit,
        (None, Labels::Given) => r.train_acc,
        (None, Labels::Random) => f64::NAN,
    }
}

impl Cell {
    /// Whether two cells are one width, architecture (by its parameters) and training size.
    fn same_place(&self, other: &Cell) -> bool {
        (self.units, self.params, self.size) == (other.units, other.params, other.size)
    }
}

/// Each width's capacity from its random-label cells (sorted by width then size).
fn widths(random: &[Cell], classes: usize) -> Vec<Width> {
    let mut models: Vec<(i64, i64)> = random.iter().map(|c| (c.units, c.params)).collect();
    models.dedup();
    models
        .into_iter()
        .map(|(h, params)| {
            let mine: Vec<&Cell> = random
                .iter()
                .filter(|c| (c.units, c.params) == (h, params))
                .collect();
            let best = mine
                .iter()
                .map(|c| (bits(c.size, c.fit, classes), c.size))
                .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
            let fitted = mine
                .iter()
                .filter(|c| c.fit >= FITTED)
                .map(|c| c.size)
                .max();
            let missed = mine
                .iter()
                .filter(|c| c.fit < FITTED && fitted.is_none_or(|f| c.size > f))
                .map(|c| c.size)
                .min();
            let missed_below = mine
                .iter()
                .filter(|c| c.fit < FITTED && fitted.is_some_and(|f| c.size < f))
                .map(|c| c.size)
                .max();
            Width {
                units: h,
                params,
                fitted,
                missed,
                partial_bits: best.0,
                at_size: best.1,
                missed_below,
            }
        })
        .collect()
}

/// Writes `capacity.{svg,png}` when the sweep has random-label runs; returns the files.
pub fn render(inputs: &Inputs, dir: &Path) -> Result<Vec<PathBuf>> {
    match Capacity::of(inputs) {
        Some(c) => crate::style::render(&figure::CapacityFigure(&c), dir),
        None => Ok(Vec::new()),
    }
}

/// The section of `report.md`, or "" without random-label runs.
pub fn section(inputs: &Inputs) -> String {
    let Some(c) = Capacity::of(inputs) else {
        return String::new();
    };
    let mut out = String::from("## Capacity: random labels memorised\n\n");
    let _ = writeln!(
        out,
        "Each width trained on the first N training examples with labels drawn uniformly from \
         the {} classes, which only memorisation can fit. A width's capacity is the largest N \
         it fits ({:.0} % of the labels or more), in bits: log₂{} = {:.2} a label. That N lies \
         below the next N tried, which the width did not fit; \"≥\" marks a width that fitted the \
         largest N it was given, whose capacity is more. The last column counts partial fits \
         too: N · I(a) bits for a share a of N labels fitted (Collins et al. 2017), the most any \
         N gave the width.\n",
        c.classes,
        100.0 * FITTED,
        c.classes,
        (c.classes as f64).log2(),
    );
    out.push_str(&capacity_table(&c));
    let _ = writeln!(out, "\n![Capacity]({FIGURE}.png)\n");
    out.push_str(&fit_table(&c));
    out
}

/// Per width: parameters, the largest N fitted and its bits, bits per parameter, the N above
/// it not fitted, and the most bits of a partial fit.
fn capacity_table(c: &Capacity) -> String {
    let mut out = String::from(
        "| units | params | largest N fitted | bits | bits per parameter | next N, not fitted | \
         partial fits: most bits (at N) |\n|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    let count = |n: f64| thousands(n.round() as i64);
    for w in &c.widths {
        let bound = if w.lower_bound() { "≥ " } else { "" };
        let params = w.params as f64;
        let (fitted, bits, per_param) = match w.fitted {
            Some(n) => {
                let b = w.fitted_bits(c.classes);
                let mark = if w.missed_below.is_some() { " *" } else { "" };
                (
                    format!("{}{mark}", thousands(n as i64)),
                    format!("{bound}{}", count(b)),
                    format!("{bound}{:.2}", b / params),
                )
            }
            None => ("–".into(), "–".into(), "–".into()),
        };
        let partial = match w.partial_bits > 0.0 {
            true => format!(
                "{bound}{} ({})",
                count(w.partial_bits),
                thousands(w.at_size as i64)
            ),
            false => "– (nothing above chance)".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {fitted} | {bits} | {per_param} | {} | {partial} |",
            w.units,
            thousands(w.params),
            w.missed.map_or("–".into(), |n| thousands(n as i64)),
        );
    }
    for w in c.widths.iter().filter(|w| w.missed_below.is_some()) {
        let _ = writeln!(
            out,
            "\n\\* H = {} fitted {} labels but not the smaller {}: its fit is not monotone in N.",
            w.units,
            thousands(w.fitted.unwrap_or(0) as i64),
            thousands(w.missed_below.unwrap_or(0) as i64),
        );
    }
    out
}

/// Per width and N: the share fitted on random labels, and the training fit and test accuracy
/// on the data's own labels.
fn fit_table(c: &Capacity) -> String {
    let mut out = String::from(
        "Training fit (%) on random labels, and on the data's own labels with their test \
         accuracy (%):\n\n| units | N | random: fit | given: fit | given: test |\n\
         |--:|--:|--:|--:|--:|\n",
    );
    let pct = |v: Option<f64>| v.map_or("–".into(), |v| format!("{:.1}", 100.0 * v));
    for r in &c.random {
        let g = c
            .given
            .iter()
            .find(|g| g.units == r.units && g.size == r.size);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.units,
            thousands(r.size as i64),
            pct(Some(r.fit)),
            pct(g.map(|g| g.fit)),
            pct(g.map(|g| g.test_acc)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(units: i64, size: usize, fit: f64) -> Cell {
        Cell {
            units,
            params: units * 100,
            size,
            fit,
            test_acc: 0.1,
            seeds: 1,
        }
    }

    #[test]
    fn bits_are_log2_c_a_label_when_fitted_and_none_at_chance() {
        assert!((bits(1000, 1.0, 10) - 1000.0 * 10f64.log2()).abs() < 1e-9);
        assert_eq!(bits(1000, 0.1, 10), 0.0);
        assert_eq!(bits(1000, 0.05, 10), 0.0);
        // Two classes at 3/4: 1 - H(0.75) = 0.1887 bits a label.
        assert!(
            (bits(100, 0.75, 2) - 18.872).abs() < 1e-3,
            "{}",
            bits(100, 0.75, 2)
        );
        let (lo, hi) = (bits(1000, 0.5, 10), bits(1000, 0.9, 10));
        assert!(0.0 < lo && lo < hi && hi < bits(1000, 1.0, 10));
    }

    #[test]
    fn a_width_is_bracketed_by_the_largest_size_fitted_and_the_next_one_missed() {
        let random = [
            cell(8, 500, 1.0),
            cell(8, 1000, 0.995),
            cell(8, 2000, 0.6),
            cell(8, 4000, 0.3),
            cell(16, 500, 0.9),
            cell(16, 1000, 0.5),
            cell(64, 500, 1.0),
            cell(64, 2000, 1.0),
            cell(128, 500, 1.0),
            cell(128, 1000, 0.9),
            cell(128, 2000, 1.0),
        ];
        let w = widths(&random, 10);
        assert_eq!(w.len(), 4);
        // 1000 fitted, 2000 not: the capacity lies between their bits.
        assert_eq!((w[0].fitted, w[0].missed), (Some(1000), Some(2000)));
        assert!(!w[0].lower_bound());
        assert!((w[0].fitted_bits(10) - 1000.0 * 10f64.log2()).abs() < 1e-9);
        assert!((w[0].missed_bits(10).unwrap() - 2000.0 * 10f64.log2()).abs() < 1e-9);
        // Fewer than two classes: no bits.
        assert_eq!(w[0].fitted_bits(1), 0.0);
        // Partial fits: 1000 labels at 99.5 % store more than 2000 at 60 %.
        assert!(bits(1000, 0.995, 10) > bits(2000, 0.6, 10));
        assert_eq!(w[0].at_size, 1000);
        assert!((w[0].partial_bits - bits(1000, 0.995, 10)).abs() < 1e-9);
        // Nothing fitted: the smallest size is the one missed.
        assert_eq!((w[1].fitted, w[1].missed), (None, Some(500)));
        assert_eq!(w[1].fitted_bits(10), 0.0);
        assert!(!w[1].lower_bound());
        // Everything fitted: a lower bound.
        assert_eq!((w[2].fitted, w[2].missed), (Some(2000), None));
        assert!(w[2].lower_bound());
        // Fitted 500 and 2000 but not 1000: the table says so.
        assert_eq!((w[3].fitted, w[3].missed_below), (Some(2000), Some(1000)));
        assert_eq!(w[2].missed_below, None);
        let table = capacity_table(&Capacity {
            classes: 10,
            random: random.to_vec(),
            given: Vec::new(),
            widths: w,
        });
        assert!(
            table.contains("| 8 | 800 | 1,000 | 3,322 | 4.15 | 2,000 | 3,261 (1,000) |"),
            "{table}"
        );
        assert!(
            table.contains("| 16 | 1,600 | – | – | – | 500 | 1,268 (500) |"),
            "{table}"
        );
        assert!(
            table.contains("| 64 | 6,400 | 2,000 | ≥ 6,644 | ≥ 1.04 | – | ≥ 6,644 (2,000) |"),
            "{table}"
        );
        assert!(table.contains("| 128 | 12,800 | 2,000 * |"), "{table}");
        assert!(
            table.contains("\\* H = 128 fitted 2,000 labels but not the smaller 1,000"),
            "{table}"
        );
    }
}
