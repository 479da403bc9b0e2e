/*!
The five figures of a report, one `Figure` each, drawn from the per-width rows (mean and sample
std over seeds) and the per-epoch curves. Widths are on a log2 axis, parameter counts and seconds
on log10 axes; accuracies are in percent.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::inputs::{Inputs, Row};
use super::style::{
    chart_builder, chart_builder_with, colour, error_bars, render, short_count, short_number,
    ticks_125, Drawn, Figure, Style, GREY, GRID,
};
use crate::model::{formula, keras_param_count, param_count, Arch};
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

    /// What the error bars are.
    pub fn spread(&self) -> String {
        if self.seeds == "1" {
            "1 seed".to_string()
        } else {
            format!("mean ± sample std over {} seeds", self.seeds)
        }
    }
}

/// A (low, high) range of percentages padded by `pad` of its span (at least 0.2 points).
pub fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
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

/// Test and validation accuracy against num_units, parameter counts written under the points.
pub struct AccuracyVsUnits<'a>(pub &'a Data<'a>);

impl Figure for AccuracyVsUnits<'_> {
    fn name(&self) -> &'static str {
        "accuracy_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                    pct(r.val_acc.mean - r.val_acc.std),
                    pct(r.val_acc.mean + r.val_acc.std),
                ]
            }),
            0.08,
        );
        let mut chart = chart_builder_with(root, s, 20.0)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(d.widths()), y0..y1)?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "accuracy (%)",
            &units_label,
            &percent_label(y1 - y0)
        );
        for v in 0..d.variants.len() {
            let rows = d.of(v);
            let (ct, cv) = (colour(2 * v), colour(2 * v + 1));
            let test: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, pct(r.test_acc.mean)))
                .collect();
            let val: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, pct(r.val_acc.mean)))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(
                    val.clone(),
                    s.px(6.0),
                    s.px(4.0),
                    s.line(cv, 1.6),
                ))?
                .label(format!("{}validation accuracy", d.prefix(v)))
                .legend(mark!(s, cv, true, true));
            chart.draw_series(
                val.iter()
                    .map(|&p| TriangleMarker::new(p, s.px(5.5), s.fill(cv))),
            )?;
            error_bars(
                &mut chart,
                &pct_bars(&rows, |r| r.num_units as f64, |r| &r.val_acc),
                s.line(cv, 1.2),
                s.px(4.0),
            )?;
            chart
                .draw_series(LineSeries::new(test.clone(), s.line(ct, 2.0)))?
                .label(format!("{}test accuracy ({})", d.prefix(v), d.spread()))
                .legend(mark!(s, ct, false, false));
            error_bars(
                &mut chart,
                &pct_bars(&rows, |r| r.num_units as f64, |r| &r.test_acc),
                s.line(ct, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(test.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(ct))))?;
        }
        // Parameter counts in grey under the width's tick label, once per width (their range
        // when the rows of a width differ in cell or stack).
        let mut seen = Vec::new();
        for r in &d.rows {
            if seen.contains(&r.num_units) {
                continue;
            }
            seen.push(r.num_units);
            let same: Vec<i64> = d
                .rows
                .iter()
                .filter(|o| o.num_units == r.num_units)
                .map(|o| o.params)
                .collect();
            let (lo, hi) = (same.iter().min().unwrap(), same.iter().max().unwrap());
            let count = if lo == hi {
                short_count(*lo as f64)
            } else {
                format!("{}–{}", short_count(*lo as f64), short_count(*hi as f64))
            };
            let (x, y) = chart.backend_coord(&(r.num_units as f64, y0));
            root.draw(&Text::new(
                format!("{count} params"),
                (x, y + s.px(31.0)),
                s.note().pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        if !d.missing_units.is_empty() {
            let list: Vec<String> = d.missing_units.iter().map(i64::to_string).collect();
            chart.plotting_area().draw(
                &(EmptyElement::at((x0, y1))
                    + Text::new(
                        format!("no result yet for H = {}", list.join(", ")),
                        (s.px(10.0), s.px(10.0)),
                        s.note(),
                    )),
            )?;
        }
        legend!(chart, s, SeriesLabelPosition::LowerRight);
        Ok(())
    }
}

/// Test accuracy against parameter count.
pub struct AccuracyVsParams<'a>(pub &'a Data<'a>);

impl Figure for AccuracyVsParams<'_> {
    fn name(&self) -> &'static str {
        "accuracy_vs_params"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let p: Vec<f64> = d.rows.iter().map(|r| r.params as f64).collect();
        let (plo, phi) = p
            .iter()
            .fold((f64::INFINITY, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let (x0, x1) = (plo / 1.6, phi * 1.6);
        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                ]
            }),
            0.12,
        );
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ticks_125(x0, x1)),
            y0..y1,
        )?;
        axes!(
            chart,
            s,
            "trainable parameters (log scale)",
            "test accuracy (%)",
            &|v: &f64| short_count(*v),
            &percent_label(y1 - y0)
        );
        for v in 0..d.variants.len() {
            let rows = d.of(v);
            let c = colour(2 * v);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.params as f64, pct(r.test_acc.mean)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
                .label(format!("{}test accuracy ({})", d.prefix(v), d.spread()))
                .legend(mark!(s, c, false, false));
            error_bars(
                &mut chart,
                &pct_bars(&rows, |r| r.params as f64, |r| &r.test_acc),
                s.line(c, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
            for r in &rows {
                chart.plotting_area().draw(
                    &(EmptyElement::at((r.params as f64, pct(r.test_acc.mean)))
                        + Text::new(
                            format!("H={}", r.num_units),
                            (s.px(7.0), s.px(4.0)),
                            s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                        )),
                )?;
            }
        }
        legend!(chart, s, SeriesLabelPosition::LowerRight);
        Ok(())
    }
}

/// Parameter count against num_units: the exact formulas of both conventions, and the counts
/// of the trained models.
pub struct ParamsVsUnits<'a>(pub &'a Data<'a>);

impl Figure for ParamsVsUnits<'_> {
    fn name(&self) -> &'static str {
        "params_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        // The exact counts are polynomials in H (one per architecture of the sweep); drawn as
        // smooth curves over the axis.
        let archs = d.architectures();
        let count = |a: &Arch, keras: bool, h: f64| real_count(a, keras, h);
        let y0 = archs
            .iter()
            .map(|a| count(a, true, x0))
            .fold(f64::INFINITY, f64::min)
            / 1.4;
        let y1 = archs
            .iter()
            .map(|a| count(a, false, x1))
            .fold(0.0, f64::max)
            * 1.4;
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(d.widths()),
            (y0..y1).log_scale().with_key_points(ticks_125(y0, y1)),
        )?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "trainable parameters (log scale)",
            &units_label,
            &|v: &f64| short_count(*v)
        );
        let n = 60;
        let curve = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
            (0..=n)
                .map(|k| {
                    let h = x0 * (x1 / x0).powf(k as f64 / n as f64);
                    (h, f(h))
                })
                .collect()
        };
        let input = "I";
        if let [a] = archs[..] {
            // One architecture: both conventions.
            let biases = a.cell.keras_biases();
            let (ct, ck) = (colour(0), colour(1));
            chart
                .draw_series(LineSeries::new(
                    curve(&|h| count(&a, false, h)),
                    s.line(ct, 2.0),
                ))?
                .label(format!(
                    "PyTorch / tch (2 biases): {}",
                    formula(&a, false, input, Some(d.classes))
                ))
                .legend(mark!(s, ct, false));
            chart
                .draw_series(DashedLineSeries::new(
                    curve(&|h| count(&a, true, h)),
                    s.px(7.0),
                    s.px(5.0),
                    s.line(ck, 2.0),
                ))?
                .label(format!(
                    "Keras ({biases} bias{}): {}",
                    if biases == 1 { "" } else { "es" },
                    formula(&a, true, input, Some(d.classes))
                ))
                .legend(mark!(s, ck, true));
        } else {
            // Several: the PyTorch count of each; the Keras difference in words below.
            for (i, a) in archs.iter().enumerate() {
                let c = colour(i);
                chart
                    .draw_series(LineSeries::new(
                        curve(&|h| count(a, false, h)),
                        s.line(c, 2.0),
                    ))?
                    .label(format!(
                        "{}: {}",
                        a.describe(),
                        formula(a, false, input, Some(d.classes))
                    ))
                    .legend(mark!(s, c, false));
            }
        }
        let mut counted: Vec<(f64, f64)> = d
            .rows
            .iter()
            .map(|r| (r.num_units as f64, r.params as f64))
            .collect();
        counted.dedup();
        chart
            .draw_series(
                counted
                    .iter()
                    .map(|&p| Circle::new(p, s.px(5.5), s.line(BLACK, 1.6))),
            )?
            .label(format!("counted in the trained models (I = {})", d.input))
            .legend(move |(x, y)| Circle::new((x + s.px(14.0), y), s.px(5.5), s.line(BLACK, 1.6)));
        // The two conventions differ by a bias vector per layer and direction: invisible on a
        // log axis, so said in words.
        let h = d.rows.iter().map(|r| r.num_units).max().unwrap_or(128);
        let note = match archs[..] {
            [a] => {
                let a = a.with_hidden(h);
                let (torch, keras) = (param_count(&a), keras_param_count(&a));
                if torch == keras {
                    format!(
                        "Keras = PyTorch (two biases in both): {} at H = {h}",
                        thousands(torch)
                    )
                } else {
                    format!(
                        "Keras = PyTorch − {}: {} vs {} at H = {h}",
                        formula_difference(&a),
                        thousands(keras),
                        thousands(torch)
                    )
                }
            }
            _ => "Keras: one bias vector fewer per layer and direction for LSTM and RNN, \
                  the same count for GRU"
                .to_string(),
        };
        chart.plotting_area().draw(
            &(EmptyElement::at((x1, y0))
                + Text::new(
                    note,
                    (-s.px(10.0), -s.px(10.0)),
                    s.note().pos(Pos::new(HPos::Right, VPos::Bottom)),
                )),
        )?;
        for &(h, p) in &counted {
            chart.plotting_area().draw(
                &(EmptyElement::at((h, p))
                    + Text::new(
                        short_count(p),
                        (s.px(9.0), s.px(4.0)),
                        s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                    )),
            )?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// `param_count` (or `keras_param_count`) at a real H, for the smooth curves.
fn real_count(a: &Arch, keras: bool, h: f64) -> f64 {
    let (g, d) = (a.cell.gates() as f64, a.directions() as f64);
    let b = if keras { a.cell.keras_biases() } else { 2 } as f64;
    let mut total = 0.0;
    for l in 0..a.layers {
        let inputs = if l == 0 { a.input as f64 } else { d * h };
        total += d * (g * h * (inputs + h) + b * g * h);
    }
    total + d * a.classes as f64 * h + a.classes as f64
}

/// `4H`, `2×4H`, ...: PyTorch's extra bias vectors over Keras', per layer and direction.
fn formula_difference(a: &Arch) -> String {
    let per = a.cell.gates() * (2 - a.cell.keras_biases());
    let n = a.layers * a.directions();
    let h = if per == 1 {
        "H".to_string()
    } else {
        format!("{per}H")
    };
    if n == 1 {
        h
    } else {
        format!("{n}×{h}")
    }
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

/// Validation accuracy and train loss per epoch, one line per width (mean over seeds).
pub struct LearningCurves<'a>(pub &'a Data<'a>);

impl Figure for LearningCurves<'_> {
    fn name(&self) -> &'static str {
        "learning_curves"
    }
    fn size(&self) -> (u32, u32) {
        (1200, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let rows: Vec<&Row> = d
            .rows
            .iter()
            .copied()
            .filter(|r| !r.curve.is_empty())
            .collect();
        let epochs = rows.iter().map(|r| r.curve.len()).max().unwrap_or(1).max(1) as f64;
        let (x0, x1) = (0.7, epochs + 0.3);
        // Integer epochs only: plotters picks the ticks, the labels skip fractional ones.
        let n_ticks = (epochs as usize).min(12) + 1;
        let epoch_label = |v: &f64| {
            if (v - v.round()).abs() < 1e-9 && *v >= 1.0 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        };
        let label = |r: &Row| {
            if d.variants.len() > 1 {
                format!("H = {} ({})", r.num_units, d.variants[r.variant])
            } else {
                format!("H = {}", r.num_units)
            }
        };
        let (w, _) = root.dim_in_pixel();
        let (top, body) = root.split_vertically(s.px(36.0));
        let (left, right) = body.split_horizontally(w / 2);

        // One legend for both panels, in a row above them.
        let font = s.legend();
        let items: Vec<(String, RGBColor)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (label(r), colour(i)))
            .collect();
        let mut text_w = Vec::new();
        for (t, _) in &items {
            text_w.push(top.estimate_text_size(t, &font)?.0 as i32);
        }
        let (mark_w, gap, sep) = (s.px(28.0), s.px(7.0), s.px(26.0));
        let total: i32 = text_w.iter().map(|t| mark_w + gap + t).sum::<i32>()
            + sep * (items.len() as i32 - 1).max(0);
        let (mut x, y) = ((w as i32 - total) / 2, s.px(22.0));
        for ((t, c), tw) in items.iter().zip(&text_w) {
            top.draw(&PathElement::new(
                vec![(x, y), (x + mark_w, y)],
                s.line(*c, 2.0),
            ))?;
            top.draw(&Circle::new((x + mark_w / 2, y), s.px(3.5), s.fill(*c)))?;
            top.draw(&Text::new(
                t.clone(),
                (x + mark_w + gap, y),
                font.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += mark_w + gap + tw + sep;
        }

        let (y0, y1) = padded(
            rows.iter()
                .flat_map(|r| r.curve.iter().map(|e| 100.0 * e.val_acc)),
            0.05,
        );
        let mut chart = chart_builder(&left, s).build_cartesian_2d(x0..x1, y0..y1)?;
        axes!(
            chart,
            s,
            "epoch",
            "validation accuracy (%)",
            &epoch_label,
            &percent_label(y1 - y0),
            n_ticks
        );
        for (i, r) in rows.iter().enumerate() {
            let pts: Vec<(f64, f64)> = r
                .curve
                .iter()
                .map(|e| (e.epoch as f64, 100.0 * e.val_acc))
                .collect();
            let c = colour(i);
            chart.draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(3.0), s.fill(c))))?;
        }

        let (l0, l1) = rows
            .iter()
            .flat_map(|r| r.curve.iter().map(|e| e.train_loss))
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (l0, l1) = if l0.is_finite() {
            (l0 / 1.3, l1 * 1.3)
        } else {
            (0.01, 10.0)
        };
        let lticks = log_ticks(l0, l1, 1);
        let mut chart = chart_builder(&right, s)
            .build_cartesian_2d(x0..x1, (l0..l1).log_scale().with_key_points(lticks))?;
        axes!(
            chart,
            s,
            "epoch",
            "train loss (cross-entropy, log scale)",
            &epoch_label,
            &|v: &f64| short_number(*v),
            n_ticks
        );
        for (i, r) in rows.iter().enumerate() {
            let pts: Vec<(f64, f64)> = r
                .curve
                .iter()
                .filter(|e| e.train_loss > 0.0)
                .map(|e| (e.epoch as f64, e.train_loss))
                .collect();
            let c = colour(i);
            chart.draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(3.0), s.fill(c))))?;
        }
        Ok(())
    }
}

/// Training seconds per epoch against num_units, with a guide line proportional to H².
pub struct CostVsUnits<'a>(pub &'a Data<'a>);

impl Figure for CostVsUnits<'_> {
    fn name(&self) -> &'static str {
        "cost_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        let lows = d.rows.iter().map(|r| {
            (r.seconds_per_epoch.mean - r.seconds_per_epoch.std).max(r.seconds_per_epoch.mean / 2.0)
        });
        let highs = d
            .rows
            .iter()
            .map(|r| r.seconds_per_epoch.mean + r.seconds_per_epoch.std);
        let lo = lows.fold(f64::INFINITY, f64::min).max(1e-6);
        let hi = highs.fold(0f64, f64::max).max(lo * 2.0);
        let (y0, y1) = (lo / 1.6, hi * 1.6);
        let yticks = log_ticks(y0, y1, 4);
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(d.widths()),
            (y0..y1).log_scale().with_key_points(yticks),
        )?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "training time per epoch (s, log scale)",
            &units_label,
            &|v: &f64| short_number(*v)
        );
        // The guide: c·H² through the widest measured point, drawn where it is on the chart.
        if let Some(top) = d.rows.iter().max_by_key(|r| r.num_units) {
            let h = top.num_units as f64;
            let c = top.seconds_per_epoch.mean / (h * h);
            let from = (y0 / c).sqrt().max(x0);
            let n = 50;
            let pts: Vec<(f64, f64)> = (0..=n)
                .map(|i| {
                    let x = from * (x1 / from).powf(i as f64 / n as f64);
                    (x, c * x * x)
                })
                .filter(|p| p.1 <= y1)
                .collect();
            chart
                .draw_series(DashedLineSeries::new(
                    pts,
                    s.px(6.0),
                    s.px(5.0),
                    s.line(GREY, 1.5),
                ))?
                .label(format!("∝ H² (through H = {})", top.num_units))
                .legend(mark!(s, GREY, true));
        }
        for v in 0..d.variants.len() {
            let rows = d.of(v);
            let c = colour(2 * v);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, r.seconds_per_epoch.mean))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
                .label(format!(
                    "{}measured on {}; {}",
                    d.prefix(v),
                    d.devices,
                    d.spread()
                ))
                .legend(mark!(s, c, false, false));
            error_bars(
                &mut chart,
                &rows
                    .iter()
                    .map(|r| {
                        let (m, e) = (r.seconds_per_epoch.mean, r.seconds_per_epoch.std);
                        (r.num_units as f64, (m - e).max(y0), m + e)
                    })
                    .collect::<Vec<_>>(),
                s.line(c, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// Test accuracy (left) and training seconds per epoch (right) against the timesteps T a
/// sequence is read in (a swept `patch`), one line per width: what unrolling over time costs
/// and buys. Drawn only when the rows read more than one T.
pub struct Timesteps<'a>(pub &'a Data<'a>);

impl Figure for Timesteps<'_> {
    fn name(&self) -> &'static str {
        "timesteps"
    }
    fn size(&self) -> (u32, u32) {
        (1200, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let ts = d.timesteps();
        let (x0, x1) = (ts[0] / 1.4, ts[ts.len() - 1] * 1.4);
        let mut widths: Vec<i64> = d.rows.iter().map(|r| r.num_units).collect();
        widths.sort_unstable();
        widths.dedup();
        // One line per width: its rows by T.
        let lines: Vec<(i64, Vec<&Row>)> = widths
            .iter()
            .map(|&h| {
                let mut rows: Vec<&Row> = d
                    .rows
                    .iter()
                    .copied()
                    .filter(|r| r.num_units == h && r.timesteps.is_some())
                    .collect();
                rows.sort_by_key(|r| r.timesteps);
                (h, rows)
            })
            .collect();
        let t_of = |r: &Row| r.timesteps.unwrap_or(1) as f64;
        let t_label = |v: &f64| format!("{}", v.round() as i64);
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);

        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                ]
            }),
            0.06,
        );
        let mut chart = chart_builder(&left, s)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(ts.clone()), y0..y1)?;
        axes!(
            chart,
            s,
            "timesteps T (log₂ scale; values per step = 784 / T for MNIST)",
            "test accuracy (%)",
            &t_label,
            &percent_label(y1 - y0)
        );
        for (i, (h, rows)) in lines.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (t_of(r), pct(r.test_acc.mean)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
                .label(format!("H = {h} ({})", d.spread()))
                .legend(mark!(s, c, false, false));
            error_bars(
                &mut chart,
                &pct_bars(rows, t_of, |r| &r.test_acc),
                s.line(c, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
        }
        // Accuracy falls with T: the upper right is free.
        legend!(chart, s, SeriesLabelPosition::UpperRight);

        let secs = d
            .rows
            .iter()
            .map(|r| r.seconds_per_epoch.mean)
            .filter(|v| *v > 0.0);
        let (lo, hi) = secs.fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if lo.is_finite() {
            (lo / 1.6, hi * 1.6)
        } else {
            (0.01, 10.0)
        };
        let yticks = log_ticks(lo, hi, 4);
        let mut chart = chart_builder(&right, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ts),
            (lo..hi).log_scale().with_key_points(yticks),
        )?;
        axes!(
            chart,
            s,
            "timesteps T (log₂ scale)",
            "training time per epoch (s, log scale)",
            &t_label,
            &|v: &f64| short_number(*v)
        );
        for (i, (h, rows)) in lines.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (t_of(r), r.seconds_per_epoch.mean))
                .filter(|p| p.1 > 0.0)
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
                .label(format!("H = {h}, measured on {}", d.devices))
                .legend(mark!(s, c, false, false));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// The bench figures, a child module so that it draws with the macros above.
pub mod bench;
