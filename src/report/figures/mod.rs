/*!
The figures of a classification report, one `Figure` a file (and `bench`'s), drawn from the per-width rows (mean and sample
std over seeds) and the per-epoch curves. Widths are on a log2 axis, parameter counts and seconds
on log10 axes; accuracies are in percent.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod accuracy_vs_params;
mod accuracy_vs_units;
pub mod bench;
mod captions;
mod cost_vs_units;
mod learning_curves;
mod params_vs_units;
mod timesteps;

pub use accuracy_vs_params::AccuracyVsParams;
pub use accuracy_vs_units::AccuracyVsUnits;
pub use captions::{captions, spread};
pub use cost_vs_units::CostVsUnits;
pub use learning_curves::LearningCurves;
pub use params_vs_units::ParamsVsUnits;
pub use timesteps::Timesteps;

use super::inputs::{Inputs, Row};
use crate::model::{formula, keras_param_count, param_count, Arch};
use crate::style::{
    chart_builder, chart_builder_with, colour, error_bars, reference_line, render, short_count,
    short_number, test_line, ticks_125, validation_line, width_notes, Drawn, Figure, Style, GRID,
};
use crate::summary::{thousands, Stat};

/// Renders every figure into `dir`; returns the files written.
pub fn render_all(inputs: &Inputs, dir: &Path) -> Result<Vec<PathBuf>> {
    let data = Data::new(inputs);
    let mut files = Vec::new();
    files.extend(render(&AccuracyVsUnits(&data), dir)?);
    files.extend(render(&AccuracyVsParams(&data), dir)?);
    files.extend(render(&ParamsVsUnits(&data), dir)?);
    files.extend(render(&LearningCurves(&data), dir)?);
    files.extend(render(&CostVsUnits(&data), dir)?);
    if data.timesteps().len() > 1 {
        files.extend(render(&Timesteps(&data), dir)?);
    }
    Ok(files)
}

/// What the figures draw.
pub struct Data<'a> {
    /// Rows with at least one result, by variant then width.
    pub rows: Vec<&'a Row>,
    pub variants: &'a [String],
    /// Seeds per row, "3" or "2–3".
    seeds: String,
    /// Widths planned but without any result.
    missing_units: Vec<i64>,
    devices: String,
    /// I (features per step) and C (classes) of the data, for the parameter formulas.
    input: i64,
    classes: i64,
}

impl<'a> Data<'a> {
    /// What the figures of `inputs` draw.
    pub fn new(inputs: &'a Inputs) -> Data<'a> {
        Data {
            rows: inputs.finished_rows().collect(),
            variants: &inputs.variants,
            seeds: inputs.seed_counts(),
            missing_units: inputs
                .rows
                .iter()
                .filter(|r| r.seeds.is_empty())
                .map(|r| r.num_units)
                .collect(),
            devices: inputs.devices(),
            input: inputs.shape.input,
            classes: inputs.shape.classes(),
        }
    }

    pub fn widths(&self) -> Vec<f64> {
        let mut w: Vec<i64> = self.rows.iter().map(|r| r.num_units).collect();
        w.extend(&self.missing_units);
        w.sort_unstable();
        w.dedup();
        w.into_iter().map(|h| h as f64).collect()
    }

    /// The log2 axis over the widths, a little wider than the data.
    pub fn units_range(&self) -> (f64, f64) {
        let w = self.widths();
        let (lo, hi) = (w[0], w[w.len() - 1]);
        if lo == hi {
            (lo / 2.0, hi * 2.0)
        } else {
            (lo / 1.35, hi * 1.35)
        }
    }

    /// The log10 axis over the rows' parameter counts, a factor 1.6 wider on each side.
    pub fn params_range(&self) -> (f64, f64) {
        let (lo, hi) = self
            .rows
            .iter()
            .map(|r| r.params as f64)
            .fold((f64::INFINITY, 0f64), |(a, b), p| (a.min(p), b.max(p)));
        (lo / 1.6, hi * 1.6)
    }

    /// "LSTM units H (num_units, log₂ scale)", with the cell of every row, or "units H per
    /// layer" when the cells differ.
    pub fn units_axis(&self) -> String {
        let cells: Vec<_> = self.rows.iter().map(|r| r.arch.cell).collect();
        match cells.first() {
            Some(c) if cells.iter().all(|x| x == c) => {
                format!("{} units H (num_units, log₂ scale)", c.title())
            }
            _ => "units H per layer (num_units, log₂ scale)".to_string(),
        }
    }

    /// The distinct timesteps T of the rows (a swept `patch`), ascending.
    pub fn timesteps(&self) -> Vec<f64> {
        let mut t: Vec<i64> = self.rows.iter().filter_map(|r| r.timesteps).collect();
        t.sort_unstable();
        t.dedup();
        t.into_iter().map(|t| t as f64).collect()
    }

    /// The distinct architectures of the rows (as far as parameters go), in row order.
    fn architectures(&self) -> Vec<Arch> {
        let mut archs: Vec<Arch> = Vec::new();
        for r in &self.rows {
            if !archs.iter().any(|a| a.same_shape(&r.arch)) {
                archs.push(r.arch);
            }
        }
        archs
    }

    /// Rows of one variant.
    pub fn of(&self, variant: usize) -> Vec<&Row> {
        self.rows
            .iter()
            .copied()
            .filter(|r| r.variant == variant)
            .collect()
    }

    /// "" for a single variant, else "lr=0.01: ".
    pub fn prefix(&self, variant: usize) -> String {
        if self.variants.len() > 1 {
            format!("{}: ", self.variants[variant])
        } else {
            String::new()
        }
    }

    /// Variant `v`'s line: its rows, its colour (the even ones; the odd ones are its
    /// validation line's) and `point` of each row.
    pub fn line(&self, v: usize, point: impl Fn(&Row) -> (f64, f64)) -> Line<'_> {
        let rows = self.of(v);
        let colour = colour(2 * v);
        let pts: Vec<(f64, f64)> = rows.iter().map(|r| point(r)).collect();
        Line { rows, colour, pts }
    }

    /// What the error bars are.
    pub fn spread(&self) -> String {
        if self.seeds == "1" {
            "1 seed".to_string()
        } else {
            format!("mean ± sample std over {} seeds", self.seeds)
        }
    }
}

/// One variant's line: its rows, its colour and a point per row.
pub struct Line<'a> {
    pub rows: Vec<&'a Row>,
    pub colour: RGBColor,
    pub pts: Vec<(f64, f64)>,
}

/// A chart against parameter count (a log axis over `xs`, ticks at 1-2-5) and a linear axis
/// over `ys`, its axes drawn: `y_desc` names the values and `y_label` writes their ticks.
pub fn params_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    s: &Style,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<ParamsChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = chart_builder(root, s).build_cartesian_2d(
        (x0..x1).log_scale().with_key_points(ticks_125(x0, x1)),
        y0..y1,
    )?;
    axes!(
        chart,
        s,
        "trainable parameters (log scale)",
        y_desc,
        &|p: &f64| short_count(*p),
        y_label
    );
    Ok(chart)
}

/// What `params_chart` builds.
pub type ParamsChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// A (low, high) range of percentages padded by `pad` of its span (at least 0.2 points); 0 to
/// 100 when there is no value (every run's metrics unreadable: an unbounded axis would never
/// finish drawing).
pub fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 100.0);
    }
    let span = (hi - lo).max(0.4);
    (lo - pad * span, hi + pad * span)
}

/// Tick labels of percentages with enough decimals for the span.
fn percent_label(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if span < 2.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.0}")
        }
    }
}

pub fn units_label(v: &f64) -> String {
    format!("{}", v.round() as i64)
}

/// Ticks of a log axis from `lo` to `hi`: 1-2-5 ones, or, where those are fewer than three,
/// 1, 1.5, 2, 3, 4, 6 and 8 times the powers of ten from 1e-4 to 10^`max_exp`.
fn log_ticks(lo: f64, hi: f64, max_exp: i32) -> Vec<f64> {
    let ticks = ticks_125(lo, hi);
    if ticks.len() >= 3 {
        return ticks;
    }
    let mut ticks: Vec<f64> = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]
        .iter()
        .flat_map(|m| (-4..=max_exp).map(move |e| m * 10f64.powi(e)))
        .filter(|v| *v >= lo && *v <= hi)
        .collect();
    ticks.sort_by(f64::total_cmp);
    ticks
}

/// An accuracy as a percentage.
fn pct(v: f64) -> f64 {
    100.0 * v
}

/// Error bars of an accuracy in percent, mean ± one sample std over seeds, one per row at `x`.
fn pct_bars(
    rows: &[&Row],
    x: impl Fn(&Row) -> f64,
    acc: impl Fn(&Row) -> &Stat,
) -> Vec<(f64, f64, f64)> {
    rows.iter()
        .map(|r| {
            let (m, e) = (pct(acc(r).mean), pct(acc(r).std));
            (x(r), m - e, m + e)
        })
        .collect()
}
