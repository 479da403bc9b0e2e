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
mase_by_step.{svg,png}      forecasts of several steps: the selected width's test MASE at each
                            step ahead, beside AutoETS's and the seasonal-naive forecast's
```
The headline error is MASE for forecasts (below 1: better than the in-sample seasonal-naive
forecast) and RMSE for regression. The width drawn in `forecast_test` and
`predicted_vs_truth` is the one with the lowest mean validation error: the test set chooses
nothing.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

mod captions;
mod error_curves;
mod error_vs_params;
mod error_vs_units;
mod mase_by_step;
mod test_figures;

pub use captions::captions;
use error_curves::ErrorCurves;
use error_vs_params::ErrorVsParams;
use error_vs_units::ErrorVsUnits;
use mase_by_step::MaseByStep;
use test_figures::{ForecastTest, PredictedVsTruth, TestFigure};

use super::figures::{params_chart, units_label, CostVsUnits, Data, ParamsVsUnits};
use super::inputs::{Inputs, Row};
use crate::config::{Select, Task};
use crate::records::{sig, TestPredictions};
use crate::style::{
    chart_builder, colour, reference_line, render, test_line, validation_line, width_notes, Drawn,
    Figure, Style, GREY, GRID,
};
use crate::summary::Stat;

/// The headline metric of a numeric sweep: "MASE" or "RMSE".
pub fn metric(inputs: &Inputs) -> &'static str {
    match inputs.shape.task {
        Task::Forecast => "MASE",
        _ => "RMSE",
    }
}

/// The baselines drawn and tabled beside the headline metric: (key in `Row::baselines`, words).
pub(super) fn baseline_names(inputs: &Inputs) -> Vec<(&'static str, String)> {
    let season = inputs
        .results
        .first()
        .and_then(|r| r.trained())
        .map_or(0, |c| c.season());
    let ets = inputs.results.iter().find_map(|r| r.ets_model.clone());
    match inputs.shape.task {
        Task::Forecast => [
            ("naive MASE", "naive forecast (the last value)".to_string()),
            (
                "snaive MASE",
                if season > 0 {
                    format!("seasonal naive (m = {season})")
                } else {
                    "seasonal naive (no season: naive)".to_string()
                },
            ),
        ]
        .into_iter()
        // AutoETS where the runs recorded it (older sweeps render as before).
        .chain(ets.map(|m| ("ETS MASE", format!("AutoETS ({m})"))))
        .collect(),
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

/// Forecasts of more than one step: the selected width and, for each step ahead, its test
/// MASE (the mean over its seeds), AutoETS's and the seasonal-naive forecast's on the same
/// targets (read from the runs' `test_predictions.csv` and `result.json`: MASE's scale is the
/// result's MAE over its MASE). None for one-step forecasts, and for panels, whose series each
/// have their own scale.
pub(super) fn mase_steps(inputs: &Inputs) -> Option<(i64, Vec<[Option<f64>; 3]>)> {
    let row = selected_row(inputs)?;
    let runs: Vec<(&TestPredictions, f64)> = row
        .test_predictions
        .iter()
        .filter(|r| r.predictions.ids.is_none())
        .filter_map(|r| Some((&r.predictions, r.mase_scale?)))
        .collect();
    let horizon = runs.first()?.0.at.as_ref()?.iter().map(|a| a.1).max()?;
    if horizon < 2 {
        return None;
    }
    // The mean over runs of one forecast's MASE at step k (None where a run lacks it).
    let at_step = |k: usize, of: &dyn Fn(&TestPredictions) -> Option<&Vec<f64>>| {
        let each: Vec<f64> = runs
            .iter()
            .filter_map(|(p, scale)| {
                let values = of(p)?;
                let rows: Vec<usize> = (0..p.truth.len())
                    .filter(|&i| p.at.as_ref().is_some_and(|at| at[i].1 == k))
                    .collect();
                if rows.is_empty() {
                    return None;
                }
                let mae = rows
                    .iter()
                    .map(|&i| (values[i] - p.truth[i]).abs())
                    .sum::<f64>()
                    / rows.len() as f64;
                Some(mae / scale).filter(|m| m.is_finite())
            })
            .collect();
        (!each.is_empty()).then(|| each.iter().sum::<f64>() / each.len() as f64)
    };
    let steps = (1..=horizon)
        .map(|k| {
            [
                at_step(k, &|p| Some(&p.predicted)),
                at_step(k, &|p| p.ets.as_ref()),
                at_step(k, &|p| p.snaive.as_ref()),
            ]
        })
        .collect();
    Some((row.num_units, steps))
}

/// `mase_steps` as a markdown table.
pub fn mase_by_step(inputs: &Inputs) -> Option<String> {
    let (units, steps) = mase_steps(inputs)?;
    let mut out = format!(
        "Test MASE by step ahead of H = {units} (the mean over its seeds) and of the baselines \
         on the same targets:\n\n| step ahead | LSTM | AutoETS | seasonal naive |\n\
         | --: | --: | --: | --: |\n"
    );
    for (k, cells) in steps.iter().enumerate() {
        let cells = cells.map(|v| v.map_or_else(|| "–".to_string(), |v| format!("{v:.3}")));
        out.push_str(&format!("| {} | {} |\n", k + 1, cells.join(" | ")));
    }
    Some(out)
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
        let runs: Vec<&TestPredictions> = row
            .test_predictions
            .iter()
            .map(|r| &r.predictions)
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
    if let Some((units, steps)) = mase_steps(inputs) {
        files.extend(render(&MaseByStep { units, steps }, dir)?);
    }
    Ok(files)
}

/// A baseline's value when every row has the same (it depends on the data and the cut of the
/// series, not on the model: a sweep of `window`, `horizon` or `season` changes it).
pub(super) fn shared_baseline(inputs: &Inputs, key: &str) -> Option<f64> {
    let values: Vec<f64> = inputs
        .finished_rows()
        .filter_map(|r| r.baselines.iter().find(|b| b.0 == key).map(|b| b.1))
        .collect();
    let first = *values.first()?;
    values.iter().all(|v| *v == first).then_some(first)
}

/// Whether the baselines differ from row to row (then each row's are in the table).
pub(super) fn baselines_vary(inputs: &Inputs) -> bool {
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
