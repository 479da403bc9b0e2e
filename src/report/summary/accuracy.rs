/*!
The summary table of a classification sweep. Accuracies are percentages with two decimals for
readers, and fractions with six decimals in the data (which also gives the Keras-convention
parameter count and the validation accuracy). The 1-NN baselines some row has stand beside the
test accuracy for readers and at the end of the data.
*/
use super::{cells, config_units_params, seeds_epochs_seconds};
use crate::model::{keras_param_count, param_count};
use crate::report::inputs::{Inputs, Row};
use crate::report::table::{Cell, Column, Table};

/// The 1-NN baselines shown beside the accuracy: those some row has (none for images and
/// for results from before rowseq computed them, whose tables stay as they were).
const NEIGHBOURS: [&str; 2] = ["1NN-ED", "1NN-DTW"];

pub fn table(inputs: &Inputs) -> Table {
    let nn: Vec<&str> = NEIGHBOURS
        .into_iter()
        .filter(|n| inputs.rows.iter().any(|r| neighbour(r, n).is_some()))
        .collect();
    let mut columns = config_units_params(inputs);
    // The counted parameters less the bias vectors Keras does not have.
    columns.push(
        Column::new(cells(inputs, |r| {
            Cell::text(r.params - (param_count(&r.arch) - keras_param_count(&r.arch)))
        }))
        .data("params_keras"),
    );
    columns.push(
        Column::new(cells(inputs, accuracy))
            .screen("test accuracy (%)")
            .print("Test accuracy (%)"),
    );
    // The seeds' ensemble beside their mean, where the runs recorded their probabilities.
    if inputs.rows.iter().any(|r| r.ensemble_acc.is_some()) {
        columns.push(
            Column::new(cells(inputs, |r| {
                r.ensemble_acc.map_or(Cell::Empty, |a| Cell::Estimate {
                    mean: pct(a),
                    spread: None,
                })
            }))
            .screen("ensemble of seeds (%)")
            .print("Ensemble of seeds (%)"),
        );
        columns.push(
            Column::new(cells(inputs, |r| {
                Cell::Text(r.ensemble_acc.map_or_else(String::new, fraction))
            }))
            .data("ensemble_test_acc"),
        );
    }
    for n in &nn {
        columns.push(
            Column::new(cells(inputs, |r| {
                neighbour(r, n).map_or(Cell::Empty, |a| Cell::Estimate {
                    mean: pct(a),
                    spread: None,
                })
            }))
            .screen(format!("{n} (%)"))
            .print(format!("{n} (%)")),
        );
    }
    for (name, value) in [
        (
            "test_acc_mean",
            (|r: &Row| r.test_acc.mean) as fn(&Row) -> f64,
        ),
        ("test_acc_std", |r| r.test_acc.std),
        ("val_acc_mean", |r| r.val_acc.mean),
        ("val_acc_std", |r| r.val_acc.std),
    ] {
        columns.push(Column::new(cells(inputs, |r| Cell::Text(fraction(value(r))))).data(name));
    }
    columns.extend(seeds_epochs_seconds(inputs, |s| fixed(s, 3)));
    for n in &nn {
        columns.push(
            Column::new(cells(inputs, |r| {
                Cell::Text(neighbour(r, n).map_or_else(String::new, fraction))
            }))
            .data(format!("{}_test_acc", n.to_lowercase().replace('-', "_"))),
        );
    }
    Table {
        columns,
        caption: format!(
            "Test accuracy: {}, mean ± sample std over seeds.",
            inputs.select.caption()
        ),
        note: None,
    }
}

fn pct(v: f64) -> String {
    format!("{:.2}", 100.0 * v)
}

/// `v` with `digits` decimals, nothing when it is not finite.
fn fixed(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        String::new()
    }
}

/// An accuracy as data: a fraction with six decimals.
fn fraction(v: f64) -> String {
    fixed(v, 6)
}

/// Accuracy cell: "98.12 ± 0.05", "98.12" for one seed, "missing" for none.
fn accuracy(r: &Row) -> Cell {
    match r.test_acc.n {
        0 => Cell::text("missing"),
        1 => Cell::Estimate {
            mean: pct(r.test_acc.mean),
            spread: None,
        },
        _ => Cell::Estimate {
            mean: pct(r.test_acc.mean),
            spread: Some(pct(r.test_acc.std)),
        },
    }
}

/// A row's 1-NN accuracy by name (the same for every seed).
fn neighbour(r: &Row, name: &str) -> Option<f64> {
    r.baselines.iter().find(|b| b.0 == name).map(|b| b.1)
}
