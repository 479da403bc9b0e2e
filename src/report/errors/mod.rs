/*!
The report of a regression or forecasting sweep: errors in the target's own units instead of
accuracies, each beside its baselines (the training mean for regression; the naive and
seasonal-naive forecasts of the same test windows for forecasting).

```text
error_vs_units.{svg,png}    test and validation error against num_units, baselines as lines
error_vs_params.{svg,png}   test error against parameter count
params_vs_units, cost_vs_units, as for classification
error_curves.{svg,png}      validation error per epoch, one line per width
forecast_test.{svg,png}     forecasting: the test stretch, truth, the selected width's one-step
                            forecast (mean over seeds) and the seasonal-naive one
predicted_vs_truth.{svg,png} regression: the selected width's test predictions against the truth
summary.{md,tex,csv}        the per-width table, with the baselines
```
The headline error is MASE for forecasts (below 1: better than the in-sample seasonal-naive
forecast) and RMSE for regression. The width drawn in `forecast_test` and
`predicted_vs_truth` is the one with the lowest mean validation error: the test set chooses
nothing.
*/
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{units_label, CostVsUnits, Data, ParamsVsUnits};
use super::inputs::{Inputs, Row};
use super::style::{
    chart_builder, colour, error_bars, render, short_count, ticks_125, Drawn, Figure, Style, GREY,
    GRID,
};
use super::tables::{seeds, spe};
use crate::config::{Select, Task};
use crate::records::{sig, TestPredictions};
use crate::store::RunDir;
use crate::summary::{thousands, Stat};

/// The headline metric of a numeric sweep: "MASE" or "RMSE".
pub fn metric(inputs: &Inputs) -> &'static str {
    match inputs.shape.task {
        Task::Forecast => "MASE",
        _ => "RMSE",
    }
}

/// The baselines drawn and tabled beside the headline metric: (key in `Row::baselines`, words).
fn baseline_names(inputs: &Inputs) -> Vec<(&'static str, String)> {
    let season = inputs.results.first().map_or(0, |r| r.config.season);
    match inputs.shape.task {
        Task::Forecast => vec![
            ("naive MASE", "naive forecast (the last value)".to_string()),
            (
                "snaive MASE",
                if season > 0 {
                    format!("seasonal naive (m = {season})")
                } else {
                    "seasonal naive (no season: naive)".to_string()
                },
            ),
        ],
        _ => vec![("const RMSE", "constant: the training mean".to_string())],
    }
}

/// The row that the test-stretch figures draw: the lowest mean validation error (the first of
/// equals), among rows with a result.
fn selected_row(inputs: &Inputs) -> Option<&Row> {
    inputs
        .finished_rows()
        .filter(|r| r.val_error.n > 0 && r.val_error.mean.is_finite())
        .fold(None, |best: Option<&Row>, r| match best {
            Some(b) if b.val_error.mean <= r.val_error.mean => Some(b),
            _ => Some(r),
        })
}

/// The figures of a numeric sweep; returns the files written.
pub fn render_all(inputs: &Inputs, dir: &Path) -> Result<Vec<PathBuf>> {
    let data = Data::new(inputs);
    let view = View {
        data: &data,
        metric: metric(inputs),
        select: inputs.select,
        baselines: baseline_names(inputs)
            .into_iter()
            .filter_map(|(key, words)| {
                let v = shared_baseline(inputs, key)?;
                Some((words, v))
            })
            .collect(),
        target: inputs
            .shape
            .target
            .clone()
            .unwrap_or_else(|| "target".into()),
    };
    let mut files = Vec::new();
    files.extend(render(&ErrorVsUnits(&view), dir)?);
    files.extend(render(&ErrorVsParams(&view), dir)?);
    files.extend(render(&ParamsVsUnits(&data), dir)?);
    files.extend(render(&ErrorCurves(&view), dir)?);
    files.extend(render(&CostVsUnits(&data), dir)?);
    if let Some(row) = selected_row(inputs) {
        let runs: Vec<TestPredictions> = row
            .run_ids
            .iter()
            .filter_map(|id| {
                RunDir::new(&inputs.dir, id)
                    .test_predictions()
                    .ok()
                    .flatten()
            })
            .collect();
        if !runs.is_empty() {
            let drawn = TestFigure {
                view: &view,
                units: row.num_units,
                runs: &runs,
            };
            match inputs.shape.task {
                Task::Forecast => files.extend(render(&ForecastTest(&drawn), dir)?),
                _ => files.extend(render(&PredictedVsTruth(&drawn), dir)?),
            }
        }
    }
    Ok(files)
}

/// A baseline's value when every row has the same (it depends on the data and the cut of the
/// series, not on the model: a sweep of `window`, `horizon` or `season` changes it).
fn shared_baseline(inputs: &Inputs, key: &str) -> Option<f64> {
    let values: Vec<f64> = inputs
        .finished_rows()
        .filter_map(|r| r.baselines.iter().find(|b| b.0 == key).map(|b| b.1))
        .collect();
    let first = *values.first()?;
    values.iter().all(|v| *v == first).then_some(first)
}

/// Whether the baselines differ from row to row (then each row's are in the table).
fn baselines_vary(inputs: &Inputs) -> bool {
    baseline_names(inputs)
        .iter()
        .any(|(key, _)| shared_baseline(inputs, key).is_none())
}

/// What the error figures draw.
struct View<'a> {
    data: &'a Data<'a>,
    metric: &'static str,
    select: Select,
    /// Baselines of the headline metric: (words, value).
    baselines: Vec<(String, f64)>,
    target: String,
}

impl View<'_> {
    fn axis(&self) -> String {
        match self.metric {
            "MASE" => "test MASE (MAE / in-sample seasonal-naive MAE)".to_string(),
            _ => format!("RMSE ({})", self.target),
        }
    }

    /// The y range of `values` and the baselines, padded.
    fn range(&self, values: impl Iterator<Item = f64>) -> (f64, f64) {
        let (lo, hi) = values
            .chain(self.baselines.iter().map(|b| b.1))
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let span = (hi - lo).max(hi.abs() * 0.05).max(1e-12);
        ((lo - 0.12 * span).max(0.0), hi + 0.12 * span)
    }

    /// Dashed horizontal lines at the baselines, across `x0..x1`, with legend entries.
    fn draw_baselines<'c, DB: DrawingBackend + 'c, X>(
        &self,
        chart: &mut ChartContext<'c, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
        s: &Style,
        x0: X::ValueType,
        x1: X::ValueType,
    ) -> Drawn<DB>
    where
        X: plotters::coord::ranged1d::Ranged,
        X::ValueType: Clone + 'static,
    {
        for (i, (words, v)) in self.baselines.iter().enumerate() {
            let c = baseline_colour(i);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0.clone(), *v), (x1.clone(), *v)],
                    s.px(7.0),
                    s.px(5.0),
                    s.line(c, 1.6),
                ))?
                .label(format!("{words}: {}", sig(Some(*v))))
                .legend(mark!(s, c, true));
        }
        Ok(())
    }
}

fn baseline_colour(i: usize) -> RGBColor {
    [GREY, RGBColor(0x99, 0x99, 0x99)][i % 2]
}

/// Axis labels: three significant digits, trailing zeros dropped (0.9, 1.25, 150).
fn error_label(v: &f64) -> String {
    if *v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn bars(
    rows: &[&Row],
    x: impl Fn(&Row) -> f64,
    stat: impl Fn(&Row) -> &Stat,
) -> Vec<(f64, f64, f64)> {
    rows.iter()
        .map(|r| {
            let st = stat(r);
            (x(r), st.mean - st.std, st.mean + st.std)
        })
        .collect()
}

/// Test and validation error against num_units, with the baselines.
struct ErrorVsUnits<'a>(&'a View<'a>);

impl Figure for ErrorVsUnits<'_> {
    fn name(&self) -> &'static str {
        "error_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let d = v.data;
        let (x0, x1) = d.units_range();
        let (y0, y1) = v.range(d.rows.iter().flat_map(|r| {
            [
                r.test_error.mean - r.test_error.std,
                r.test_error.mean + r.test_error.std,
                r.val_error.mean - r.val_error.std,
                r.val_error.mean + r.val_error.std,
            ]
        }));
        let mut chart = chart_builder(root, s)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(d.widths()), y0..y1)?;
        let y_axis = match v.metric {
            "MASE" => "MASE (MAE / in-sample seasonal-naive MAE)".to_string(),
            _ => format!("RMSE ({})", v.target),
        };
        axes!(
            chart,
            s,
            &d.units_axis(),
            &y_axis,
            &units_label,
            &error_label
        );
        v.draw_baselines(&mut chart, s, x0, x1)?;
        for k in 0..d.variants.len() {
            let rows = d.of(k);
            let (ct, cv) = (colour(2 * k), colour(2 * k + 1));
            let val: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, r.val_error.mean))
                .collect();
            let test: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, r.test_error.mean))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(
                    val.clone(),
                    s.px(6.0),
                    s.px(4.0),
                    s.line(cv, 1.6),
                ))?
                .label(format!("{}validation {}", d.prefix(k), v.metric))
                .legend(mark!(s, cv, true, true));
            chart.draw_series(
                val.iter()
                    .map(|&p| TriangleMarker::new(p, s.px(5.5), s.fill(cv))),
            )?;
            chart
                .draw_series(LineSeries::new(test.clone(), s.line(ct, 2.0)))?
                .label(format!("{}test {} ({})", d.prefix(k), v.metric, d.spread()))
                .legend(mark!(s, ct, false, false));
            error_bars(
                &mut chart,
                &bars(&rows, |r| r.num_units as f64, |r| &r.test_error),
                s.line(ct, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(test.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(ct))))?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        let _ = v.select;
        Ok(())
    }
}

/// Test error against parameter count, with the baselines.
struct ErrorVsParams<'a>(&'a View<'a>);

impl Figure for ErrorVsParams<'_> {
    fn name(&self) -> &'static str {
        "error_vs_params"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let d = v.data;
        let (plo, phi) = d
            .rows
            .iter()
            .map(|r| r.params as f64)
            .fold((f64::INFINITY, 0f64), |(a, b), p| (a.min(p), b.max(p)));
        let (x0, x1) = (plo / 1.6, phi * 1.6);
        let (y0, y1) = v.range(d.rows.iter().flat_map(|r| {
            [
                r.test_error.mean - r.test_error.std,
                r.test_error.mean + r.test_error.std,
            ]
        }));
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ticks_125(x0, x1)),
            y0..y1,
        )?;
        axes!(
            chart,
            s,
            "trainable parameters (log scale)",
            &v.axis(),
            &|p: &f64| short_count(*p),
            &error_label
        );
        v.draw_baselines(&mut chart, s, x0, x1)?;
        for k in 0..d.variants.len() {
            let rows = d.of(k);
            let c = colour(2 * k);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.params as f64, r.test_error.mean))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
                .label(format!("{}test {} ({})", d.prefix(k), v.metric, d.spread()))
                .legend(mark!(s, c, false, false));
            error_bars(
                &mut chart,
                &bars(&rows, |r| r.params as f64, |r| &r.test_error),
                s.line(c, 1.4),
                s.px(5.0),
            )?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
            for r in &rows {
                chart.plotting_area().draw(
                    &(EmptyElement::at((r.params as f64, r.test_error.mean))
                        + Text::new(
                            format!("H={}", r.num_units),
                            (s.px(7.0), s.px(4.0)),
                            s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                        )),
                )?;
            }
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        Ok(())
    }
}

/// Validation error per epoch, one line per width (mean over seeds).
struct ErrorCurves<'a>(&'a View<'a>);

impl Figure for ErrorCurves<'_> {
    fn name(&self) -> &'static str {
        "error_curves"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let rows: Vec<&Row> = v
            .data
            .rows
            .iter()
            .copied()
            .filter(|r| r.curve.iter().any(|e| e.val_error.is_finite()))
            .collect();
        let epochs = rows.iter().map(|r| r.curve.len()).max().unwrap_or(1).max(1) as f64;
        let (y0, y1) = v.range(
            rows.iter()
                .flat_map(|r| r.curve.iter().map(|e| e.val_error)),
        );
        let mut chart = chart_builder(root, s).build_cartesian_2d(0.5..epochs + 0.5, y0..y1)?;
        axes!(
            chart,
            s,
            "epoch",
            &format!("validation {}", v.metric),
            &|e: &f64| format!("{}", e.round() as i64),
            &error_label,
            10
        );
        for (i, r) in rows.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64)> = r
                .curve
                .iter()
                .filter(|e| e.val_error.is_finite())
                .map(|e| (e.epoch as f64, e.val_error))
                .collect();
            let label = if v.data.variants.len() > 1 {
                format!("H = {} ({})", r.num_units, v.data.variants[r.variant])
            } else {
                format!("H = {}", r.num_units)
            };
            chart
                .draw_series(LineSeries::new(pts, s.line(c, 1.8)))?
                .label(label)
                .legend(mark!(s, c, false));
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        Ok(())
    }
}

/// The selected width's test predictions over its seeds.
struct TestFigure<'a> {
    view: &'a View<'a>,
    units: i64,
    runs: &'a [TestPredictions],
}

impl TestFigure<'_> {
    /// Row i's prediction, averaged over the runs that have it (rows are in the same order in
    /// every run of a configuration).
    fn mean_prediction(&self, i: usize) -> f64 {
        let vals: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.predicted.get(i).copied())
            .collect();
        vals.iter().sum::<f64>() / vals.len().max(1) as f64
    }
}

/// Forecasting: the test stretch, one step ahead.
struct ForecastTest<'a>(&'a TestFigure<'a>);

impl Figure for ForecastTest<'_> {
    fn name(&self) -> &'static str {
        "forecast_test"
    }
    fn size(&self) -> (u32, u32) {
        (1000, 460)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let f = self.0;
        let first = &f.runs[0];
        let at = first.at.as_deref().unwrap_or(&[]);
        // One step ahead: the target at origin + 1.
        let rows: Vec<usize> = (0..at.len()).filter(|&i| at[i].1 == 1).collect();
        let t = |i: usize| (at[i].0 + 1) as f64;
        let truth: Vec<(f64, f64)> = rows.iter().map(|&i| (t(i), first.truth[i])).collect();
        let model: Vec<(f64, f64)> = rows.iter().map(|&i| (t(i), f.mean_prediction(i))).collect();
        let snaive: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|&i| Some((t(i), first.snaive.as_ref()?[i])))
            .collect();
        let (x0, x1) = match (truth.first(), truth.last()) {
            (Some(a), Some(b)) => (a.0 - 0.5, b.0.max(a.0 + 1.0) + 0.5),
            _ => (0.0, 1.0),
        };
        let ys = truth.iter().chain(&model).chain(&snaive).map(|p| p.1);
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let span = (hi - lo).max(1e-9);
        let (y0, y1) = (lo - 0.08 * span, hi + 0.12 * span);
        let mut chart = chart_builder(root, s).build_cartesian_2d(x0..x1, y0..y1)?;
        axes!(
            chart,
            s,
            "time step (row of the series, from 0)",
            &f.view.target,
            &|v: &f64| format!("{}", v.round() as i64),
            &error_label,
            10
        );
        chart
            .draw_series(LineSeries::new(truth.clone(), s.line(BLACK, 1.8)))?
            .label("truth")
            .legend(mark!(s, BLACK, false));
        chart
            .draw_series(DashedLineSeries::new(
                snaive,
                s.px(6.0),
                s.px(4.0),
                s.line(GREY, 1.5),
            ))?
            .label("seasonal-naive forecast")
            .legend(mark!(s, GREY, true));
        let c = colour(0);
        chart
            .draw_series(LineSeries::new(model.clone(), s.line(c, 2.0)))?
            .label(format!(
                "LSTM, H = {}: one-step forecast, mean of {} seed{}",
                f.units,
                f.runs.len(),
                if f.runs.len() == 1 { "" } else { "s" }
            ))
            .legend(mark!(s, c, false, false));
        chart.draw_series(model.iter().map(|&p| Circle::new(p, s.px(2.5), s.fill(c))))?;
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// Regression: predictions against the truth, with the diagonal of a perfect model.
struct PredictedVsTruth<'a>(&'a TestFigure<'a>);

impl Figure for PredictedVsTruth<'_> {
    fn name(&self) -> &'static str {
        "predicted_vs_truth"
    }
    fn size(&self) -> (u32, u32) {
        (560, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let f = self.0;
        let first = &f.runs[0];
        let pts: Vec<(f64, f64)> = (0..first.truth.len())
            .map(|i| (first.truth[i], f.mean_prediction(i)))
            .collect();
        let (lo, hi) = pts
            .iter()
            .flat_map(|p| [p.0, p.1])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let span = (hi - lo).max(1e-9);
        let (a0, a1) = (lo - 0.06 * span, hi + 0.06 * span);
        let mut chart = chart_builder(root, s).build_cartesian_2d(a0..a1, a0..a1)?;
        axes!(
            chart,
            s,
            &format!("true {}", f.view.target),
            &format!(
                "predicted (H = {}, mean of {} seeds)",
                f.units,
                f.runs.len()
            ),
            &error_label,
            &error_label,
            8
        );
        chart
            .draw_series(DashedLineSeries::new(
                vec![(a0, a0), (a1, a1)],
                s.px(6.0),
                s.px(4.0),
                s.line(GREY, 1.4),
            ))?
            .label("a perfect model")
            .legend(mark!(s, GREY, true));
        let c = colour(0);
        chart
            .draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, s.px(3.5), s.line(c, 1.2))),
            )?
            .label("test series")
            .legend(move |(x, y)| Circle::new((x + s.px(14.0), y), s.px(3.5), s.line(c, 1.2)));
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        let _ = GRID;
        Ok(())
    }
}

/// Numeric cells: "0.8120 ± 0.0310" (the std to the mean's decimals), one value for one
/// seed, "missing" for none.
fn cell(st: &Stat, sep: &str) -> String {
    match st.n {
        0 => "missing".to_string(),
        1 => sig(Some(st.mean)),
        _ => format!("{}{sep}{}", sig(Some(st.mean)), like(st.std, st.mean)),
    }
}

/// `v` with as many decimals as `sig` gives `reference`.
fn like(v: f64, reference: f64) -> String {
    let r = sig(Some(reference));
    let decimals = r.split_once('.').map_or(0, |(_, d)| d.len());
    format!("{v:.decimals$}")
}

/// The per-width table in Markdown, then a line with the baselines.
pub fn markdown(inputs: &Inputs) -> String {
    let m = metric(inputs);
    let v = inputs.variants.len() > 1;
    let forecast = inputs.shape.task == Task::Forecast;
    let mut out = String::new();
    if v {
        out.push_str("| config ");
    }
    let _ = write!(out, "| units | params | test {m} | validation {m} |");
    if forecast {
        out.push_str(" test RMSE |");
    }
    let per_row = baselines_vary(inputs);
    let names = baseline_names(inputs);
    if per_row {
        for (key, _) in &names {
            let _ = write!(out, " {key} |");
        }
    }
    out.push_str(" seeds | epochs | s/epoch |\n");
    if v {
        out.push_str("|:--");
    }
    out.push_str("|--:|--:|--:|--:|");
    if forecast {
        out.push_str("--:|");
    }
    if per_row {
        out.push_str(&"--:|".repeat(names.len()));
    }
    out.push_str("--:|--:|--:|\n");
    for r in &inputs.rows {
        if v {
            let _ = write!(out, "| {} ", inputs.variants[r.variant]);
        }
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            r.num_units,
            thousands(r.params),
            cell(&r.test_error, " ± "),
            cell(&r.val_error, " ± ")
        );
        if forecast {
            let _ = write!(out, " {} |", cell(&r.test_rmse, " ± "));
        }
        if per_row {
            for (key, _) in &names {
                let v = r.baselines.iter().find(|b| b.0 == *key).map(|b| b.1);
                let _ = write!(out, " {} |", sig(v));
            }
        }
        let _ = writeln!(out, " {} | {} | {} |", seeds(r), r.epochs, spe(r));
    }
    out.push('\n');
    out.push_str(&baselines_line(inputs));
    out
}

/// "Baselines on the same test windows: naive forecast MASE 1.043 (RMSE 29.31), ..."
fn baselines_line(inputs: &Inputs) -> String {
    let pairs: &[(&str, &str, &str)] = match inputs.shape.task {
        Task::Forecast => &[
            (
                "naive forecast (the last value)",
                "naive MASE",
                "naive RMSE",
            ),
            ("seasonal naive", "snaive MASE", "snaive RMSE"),
        ],
        _ => &[("the training mean", "const RMSE", "")],
    };
    if baselines_vary(inputs) {
        return "The baselines depend on the cut of the series, which differs from row to row: \
                each row's are in the table, on that row's test windows.\n"
            .to_string();
    }
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(words, main, rmse)| {
            let v = shared_baseline(inputs, main)?;
            let extra = shared_baseline(inputs, rmse)
                .map_or_else(String::new, |r| format!(" (RMSE {})", sig(Some(r))));
            Some(format!(
                "{words}: {} {}{extra}",
                metric(inputs),
                sig(Some(v))
            ))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    let on = match inputs.shape.task {
        Task::Forecast => "Baselines on the same test windows",
        _ => "Baseline on the same test series",
    };
    format!("{on}: {}.\n", parts.join("; "))
}

pub fn latex(inputs: &Inputs) -> String {
    let m = metric(inputs);
    let v = inputs.variants.len() > 1;
    let mut out = String::new();
    out.push_str("% Generated by `rowseq report`; needs \\usepackage{booktabs}.\n");
    let _ = writeln!(
        out,
        "% Test {m}: {}, mean $\\pm$ sample std over seeds. {}",
        inputs.select.caption(),
        baselines_line(inputs).trim_end()
    );
    let _ = writeln!(
        out,
        "\\begin{{tabular}}{{{}rrrrrrr}}",
        if v { "l" } else { "" }
    );
    out.push_str("\\toprule\n");
    if v {
        out.push_str("Config & ");
    }
    let _ = writeln!(
        out,
        "Units & Params & Test {m} & Validation {m} & Seeds & Epochs & s/epoch \\\\"
    );
    out.push_str("\\midrule\n");
    let tex = |st: &Stat| match st.n {
        0 => "missing".to_string(),
        1 => format!("${}$", sig(Some(st.mean))),
        _ => format!("${} \\pm {}$", sig(Some(st.mean)), like(st.std, st.mean)),
    };
    for r in &inputs.rows {
        if v {
            let _ = write!(
                out,
                "{} & ",
                inputs.variants[r.variant]
                    .replace('_', "\\_")
                    .replace('%', "\\%")
            );
        }
        let _ = writeln!(
            out,
            "{} & {} & {} & {} & {} & {} & {} \\\\",
            r.num_units,
            thousands(r.params).replace(',', "{,}"),
            tex(&r.test_error),
            tex(&r.val_error),
            seeds(r),
            r.epochs,
            spe(r).replace('–', "--")
        );
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n");
    out
}

pub fn csv(inputs: &Inputs) -> Result<String> {
    let m = metric(inputs).to_lowercase();
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let names = baseline_names(inputs);
    let mut header: Vec<String> = [
        "config",
        "num_units",
        "params",
        &format!("test_{m}_mean"),
        &format!("test_{m}_std"),
        &format!("val_{m}_mean"),
        &format!("val_{m}_std"),
        "test_rmse_mean",
        "test_rmse_std",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(
        names
            .iter()
            .map(|(k, _)| k.replace(' ', "_").to_lowercase()),
    );
    header.extend(
        [
            "seeds",
            "planned",
            "epochs",
            "seconds_per_epoch_mean",
            "seconds_per_epoch_std",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v}")
        } else {
            String::new()
        }
    };
    for r in &inputs.rows {
        let mut row = vec![
            inputs.variants[r.variant].clone(),
            r.num_units.to_string(),
            r.params.to_string(),
            num(r.test_error.mean),
            num(r.test_error.std),
            num(r.val_error.mean),
            num(r.val_error.std),
            num(r.test_rmse.mean),
            num(r.test_rmse.std),
        ];
        for (k, _) in &names {
            row.push(
                r.baselines
                    .iter()
                    .find(|b| b.0 == *k)
                    .map_or_else(String::new, |b| num(b.1)),
            );
        }
        row.extend([
            r.seeds.len().to_string(),
            r.planned.to_string(),
            r.epochs.clone(),
            format!("{:.3}", r.seconds_per_epoch.mean),
            format!("{:.3}", r.seconds_per_epoch.std),
        ]);
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The figures, in the order report.md shows them, with their captions.
pub fn figures(inputs: &Inputs) -> Vec<(&'static str, String)> {
    let m = metric(inputs);
    let spread = if inputs.seed_counts() == "1" {
        "one seed per width, so no error bars".to_string()
    } else {
        format!(
            "points are means and error bars ± one sample standard deviation over {} seeds",
            inputs.seed_counts()
        )
    };
    let select = inputs.select.caption();
    let what = match inputs.shape.task {
        Task::Forecast => {
            "MASE: the forecast's MAE over the mean absolute error of the \
                           in-sample seasonal-naive forecast on the training stretch (below 1 \
                           is better than it)"
        }
        _ => "RMSE, in the target's units",
    };
    let mut out = vec![
        (
            "error_vs_units",
            format!(
                "Test (solid) and validation (dashed) {m} against the number of hidden units \
                 ({select}); {what}; {spread}. Dashed grey lines: the baselines on the same test \
                 examples (drawn when every row shares them)."
            ),
        ),
        (
            "error_vs_params",
            format!("Test {m} against the trainable parameter count ({select}); {spread}."),
        ),
        (
            "params_vs_units",
            "Trainable parameters against num_units: PyTorch's formula (two bias vectors per \
             gate), Keras' and the counts of the trained models."
                .to_string(),
        ),
        (
            "error_curves",
            format!("Validation {m} per epoch, mean over seeds, one line per width."),
        ),
        (
            "cost_vs_units",
            "Training seconds per epoch against num_units (evaluation excluded).".to_string(),
        ),
    ];
    if let Some(row) = selected_row(inputs) {
        let h = row.num_units;
        match inputs.shape.task {
            Task::Forecast => out.push((
                "forecast_test",
                format!(
                    "The test stretch: the truth, the one-step-ahead forecast of H = {h} (the \
                     width of lowest mean validation {m}; the mean over its seeds, final epoch) \
                     and the seasonal-naive forecast of the same values."
                ),
            )),
            _ => out.push((
                "predicted_vs_truth",
                format!(
                    "Test predictions of H = {h} (the width of lowest mean validation RMSE; the \
                     mean over its seeds, final epoch) against the true values."
                ),
            )),
        }
    }
    out
}
