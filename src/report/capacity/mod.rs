/*!
Memorisation capacity, for a sweep with `labels = "random"` runs (`configs/capacity.toml`):
how many random labels each width fits, in bits, against its parameters, beside what the same
widths and training-set sizes do with the data's own labels. Drawn in `capacity.{svg,png}`
(`figure`) and a section of `report.md` (`section`); other sweeps get neither.

Bits are Collins, Sohl-Dickstein and Sussillo's (2017) measure: a run that fits a share `a` of
`n` uniformly random labels of C classes has stored n · I(a) bits, I(a) = log₂C + a log₂a +
(1 − a) log₂((1 − a) / (C − 1)) being what its predictions tell of each label when the misses
fall evenly on the other classes (log₂C at a = 1, 0 at chance). A width's capacity is the most
bits any training-set size gave it. Where that width fitted its largest set, the number is a
lower bound: more data would have shown more.
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
    /// The most bits any size stored, and that size.
    pub bits: f64,
    pub at_size: usize,
    /// The largest size fitted to `FITTED`, if any.
    pub fitted: Option<usize>,
    /// Whether it fitted the largest size it was given: its capacity is more than `bits`.
    pub lower_bound: bool,
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
            let largest = mine.last().expect("a width has a cell");
            Width {
                units: h,
                params,
                bits: best.0,
                at_size: best.1,
                fitted: mine
                    .iter()
                    .filter(|c| c.fit >= FITTED)
                    .map(|c| c.size)
                    .max(),
                lower_bound: largest.fit >= FITTED,
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
         the {} classes, which only memorisation can fit. Bits stored: N · I(a), where a is the \
         share of its training set the kept model fits (I(1) = log₂{} = {:.2} bits a label; \
         Collins et al. 2017). A width's capacity is the most bits any N gave it; \"≥\" marks a \
         width that fitted the largest N it was given (≥ {:.0} %), whose capacity is more.\n",
        c.classes,
        c.classes,
        (c.classes as f64).log2(),
        100.0 * FITTED,
    );
    out.push_str(&capacity_table(&c));
    let _ = writeln!(out, "\n![Capacity]({FIGURE}.png)\n");
    out.push_str(&fit_table(&c));
    out
}

/// Per width: parameters, the largest N fitted, the bits and bits per parameter.
fn capacity_table(c: &Capacity) -> String {
    let mut out = String::from(
        "| units | params | largest N fitted | bits (at N) | bits per parameter |\n\
         |--:|--:|--:|--:|--:|\n",
    );
    for w in &c.widths {
        let bound = if w.lower_bound { "≥ " } else { "" };
        if w.bits <= 0.0 {
            let _ = writeln!(
                out,
                "| {} | {} | – | – (nothing above chance) | – |",
                w.units,
                thousands(w.params)
            );
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {bound}{} ({}) | {bound}{:.2} |",
            w.units,
            thousands(w.params),
            w.fitted.map_or("–".into(), |n| thousands(n as i64)),
            thousands(w.bits.round() as i64),
            thousands(w.at_size as i64),
            w.bits / w.params as f64,
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
    fn a_width_keeps_its_best_size_and_says_when_it_fitted_all_it_was_given() {
        let random = [
            cell(8, 500, 1.0),
            cell(8, 1000, 0.995),
            cell(8, 2000, 0.6),
            cell(64, 500, 1.0),
            cell(64, 2000, 1.0),
        ];
        let w = widths(&random, 10);
        assert_eq!(w.len(), 2);
        // 1000 labels at 99.5 % store more than 2000 at 60 %.
        assert!(bits(1000, 0.995, 10) > bits(2000, 0.6, 10));
        assert_eq!(
            (w[0].at_size, w[0].fitted, w[0].lower_bound),
            (1000, Some(1000), false)
        );
        assert!((w[0].bits - bits(1000, 0.995, 10)).abs() < 1e-9);
        assert_eq!(
            (w[1].at_size, w[1].fitted, w[1].lower_bound),
            (2000, Some(2000), true)
        );
    }
}
