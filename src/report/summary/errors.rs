/*!
The summary table of a regression or forecasting sweep: the headline error (MASE or RMSE) in the
target's units, test and validation, with the test RMSE of forecasts for readers; the baselines
in a line under the table when every row shares them, else in each row (on screen and in the
data). Numbers are written to three significant digits for readers, in full in the data.
*/
use super::{cells, config_units_params, seeds_epochs_seconds};
use crate::config::Task;
use crate::records::sig;
use crate::report::errors::{baseline_names, baselines_vary, metric, shared_baseline};
use crate::report::inputs::{Inputs, Row};
use crate::report::table::{Cell, Column, Table};
use crate::summary::Stat;

pub fn table(inputs: &Inputs) -> Table {
    let m = metric(inputs);
    let d = m.to_lowercase();
    let mut columns = config_units_params(inputs);
    columns.push(
        estimates(inputs, |r| &r.test_error)
            .screen(format!("test {m}"))
            .print(format!("Test {m}")),
    );
    columns.extend(mean_and_std(inputs, &format!("test_{d}"), |r| {
        &r.test_error
    }));
    // The seeds' ensemble (their mean prediction) beside their mean error, where recorded.
    if inputs.rows.iter().any(|r| r.ensemble_error.is_some()) {
        columns.push(
            Column::new(cells(inputs, |r| {
                r.ensemble_error.map_or(Cell::Empty, |e| Cell::Estimate {
                    mean: sig(Some(e)),
                    spread: None,
                })
            }))
            .screen("ensemble of seeds")
            .print(format!("Ensemble of seeds ({m})")),
        );
        columns.push(
            Column::new(cells(inputs, |r| {
                Cell::Text(r.ensemble_error.map_or_else(String::new, number))
            }))
            .data(format!("ensemble_test_{d}")),
        );
    }
    columns.push(
        estimates(inputs, |r| &r.val_error)
            .screen(format!("validation {m}"))
            .print(format!("Validation {m}")),
    );
    columns.extend(mean_and_std(inputs, &format!("val_{d}"), |r| &r.val_error));
    if inputs.shape.task == Task::Forecast {
        columns.push(estimates(inputs, |r| &r.test_rmse).screen("test RMSE"));
    }
    columns.extend(mean_and_std(inputs, "test_rmse", |r| &r.test_rmse));
    let per_row = baselines_vary(inputs);
    for (key, _) in baseline_names(inputs) {
        let value = |r: &Row| r.baselines.iter().find(|b| b.0 == key).map(|b| b.1);
        if per_row {
            columns.push(Column::new(cells(inputs, |r| Cell::Text(sig(value(r))))).screen(key));
        }
        columns.push(
            Column::new(cells(inputs, |r| {
                Cell::Text(value(r).map_or_else(String::new, number))
            }))
            .data(key.replace(' ', "_").to_lowercase()),
        );
    }
    columns.extend(seeds_epochs_seconds(inputs, |s| format!("{s:.3}")));
    Table {
        columns,
        caption: format!(
            "Test {m}: {}, mean ± sample std over seeds.",
            inputs.select.caption()
        ),
        note: Some(baselines_line(inputs)),
    }
}

/// A statistic of each row as readers see it, shown in no view yet.
fn estimates(inputs: &Inputs, stat: fn(&Row) -> &Stat) -> Column {
    Column::new(cells(inputs, |r| estimate(stat(r))))
}

/// A statistic of each row as data: `<name>_mean` and `<name>_std`, in full.
fn mean_and_std(inputs: &Inputs, name: &str, stat: fn(&Row) -> &Stat) -> [Column; 2] {
    [
        Column::new(cells(inputs, |r| Cell::Text(number(stat(r).mean))))
            .data(format!("{name}_mean")),
        Column::new(cells(inputs, |r| Cell::Text(number(stat(r).std)))).data(format!("{name}_std")),
    ]
}

/// A number in full, nothing when it is not finite.
fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// "0.8120 ± 0.0310" (the spread to the mean's decimals), one value for one seed, "missing"
/// for none.
fn estimate(st: &Stat) -> Cell {
    match st.n {
        0 => Cell::text("missing"),
        1 => Cell::Estimate {
            mean: sig(Some(st.mean)),
            spread: None,
        },
        _ => Cell::Estimate {
            mean: sig(Some(st.mean)),
            spread: Some(like(st.std, st.mean)),
        },
    }
}

/// `v` with as many decimals as `sig` gives `reference`.
fn like(v: f64, reference: f64) -> String {
    let r = sig(Some(reference));
    let decimals = r.split_once('.').map_or(0, |(_, d)| d.len());
    format!("{v:.decimals$}")
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
            ("AutoETS", "ETS MASE", "ETS RMSE"),
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
