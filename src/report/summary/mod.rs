/*!
The per-width summary table of a sweep, built once from the report's rows as a `table::Table`
and written by its renderers (`summary.md`, `summary.tex`, `summary.csv`, and in `report.md`).
One builder a kind of task: accuracies for classification (`accuracy`), errors in the target's
units beside their baselines for regression and forecasting (`errors`).

"±" is the sample standard deviation over seeds. A width with fewer results than planned shows
its seeds as `2/3`.
*/
mod accuracy;
mod errors;

use super::inputs::{Inputs, Row};
use super::table::{Cell, Column, Table};

/// The summary table of the sweep's task.
pub fn table(inputs: &Inputs) -> Table {
    match inputs.shape.task.is_numeric() {
        true => errors::table(inputs),
        false => accuracy::table(inputs),
    }
}

/// One cell a row.
fn cells(inputs: &Inputs, cell: impl Fn(&Row) -> Cell) -> Vec<Cell> {
    inputs.rows.iter().map(cell).collect()
}

/// The leading columns of every task's table: the configuration (shown to readers only when
/// the sweep has several), the width and the parameter count.
fn config_units_params(inputs: &Inputs) -> Vec<Column> {
    let variant = Column::new(cells(inputs, |r| Cell::text(&inputs.variants[r.variant])))
        .left()
        .data("config");
    let variant = match inputs.variants.len() > 1 {
        true => variant.screen("config").print("Config"),
        false => variant,
    };
    vec![
        variant,
        Column::new(cells(inputs, |r| Cell::text(r.num_units)))
            .screen("units")
            .print("Units")
            .data("num_units"),
        Column::new(cells(inputs, |r| Cell::Count(r.params)))
            .screen("params")
            .print("Params")
            .data("params"),
    ]
}

/// The trailing columns of every task's table: seeds, epochs and seconds per epoch, as readers
/// see them, and as data (finished and planned seeds apart, the seconds' mean and spread);
/// `seconds` formats a number of seconds for the data.
fn seeds_epochs_seconds(inputs: &Inputs, seconds: fn(f64) -> String) -> Vec<Column> {
    vec![
        Column::new(cells(inputs, |r| Cell::Text(seeds(r))))
            .screen("seeds")
            .print("Seeds"),
        Column::new(cells(inputs, |r| Cell::text(r.seeds.len()))).data("seeds"),
        Column::new(cells(inputs, |r| Cell::text(r.planned))).data("planned"),
        Column::new(cells(inputs, |r| Cell::text(&r.epochs)))
            .screen("epochs")
            .print("Epochs")
            .data("epochs"),
        Column::new(cells(inputs, seconds_per_epoch))
            .screen("s/epoch")
            .print("s/epoch"),
        Column::new(cells(inputs, |r| {
            Cell::Text(seconds(r.seconds_per_epoch.mean))
        }))
        .data("seconds_per_epoch_mean"),
        Column::new(cells(inputs, |r| {
            Cell::Text(seconds(r.seconds_per_epoch.std))
        }))
        .data("seconds_per_epoch_std"),
    ]
}

/// "3" when all planned seeds finished, else "2/3".
fn seeds(r: &Row) -> String {
    if r.seeds.len() == r.planned {
        r.seeds.len().to_string()
    } else {
        format!("{}/{}", r.seeds.len(), r.planned)
    }
}

/// Seconds per epoch, or nothing for a row without results.
fn seconds_per_epoch(r: &Row) -> Cell {
    if r.seconds_per_epoch.n == 0 {
        Cell::Empty
    } else {
        Cell::Text(format!("{:.2}", r.seconds_per_epoch.mean))
    }
}
