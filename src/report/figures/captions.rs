/*!
The captions report.md gives the figures of a classification sweep, in the order it shows them.
They name the model drawn (the one-layer LSTM's formulas, or every cell's when the sweep has
others), the spread over seeds and the epoch the accuracies are of.
*/
use super::{Arch, Inputs};
use crate::config::Select;

/// The figures, in the order report.md shows them, with their captions.
pub fn captions(inputs: &Inputs) -> Vec<(&'static str, String)> {
    let spread = spread(inputs);
    let (only_lstm, names) = models(inputs);
    let params_caption = params_caption(inputs, only_lstm, &names);
    let width = if only_lstm {
        "the LSTM's hidden size H (num_units)".to_string()
    } else {
        format!("the hidden size H (num_units) of each layer and direction ({names})")
    };
    let matrix = if only_lstm { "4H²" } else { "gH²" };
    let (of_epoch, selected) = match inputs.select {
        Select::Last => ("of the final epoch", String::new()),
        Select::BestVal => (
            "of the first epoch with the best validation accuracy (test accuracy chose nothing)",
            " at the epoch of best validation accuracy".to_string(),
        ),
    };
    let mut figures = vec![
        (
            "accuracy_vs_units",
            format!(
                "Test accuracy (solid) and validation accuracy (dashed) {of_epoch} \
                 against {width}, on a log₂ axis; {spread}. \
                 Grey labels: trainable parameters of each width."
            ),
        ),
        (
            "accuracy_vs_params",
            format!("Test accuracy{selected} against trainable parameters (log axis); {spread}."),
        ),
        ("params_vs_units", params_caption),
        (
            "learning_curves",
            "Validation accuracy (left) and mean training loss (right, log axis) per epoch, \
             one line per width, each the mean over its seeds."
                .to_string(),
        ),
        (
            "cost_vs_units",
            format!(
                "Training seconds per epoch (evaluation excluded) against H, on {}; {spread}. \
                 The dashed line grows as H², through the widest point: small widths are \
                 dominated by per-step overhead, large ones by the {matrix} recurrent matrix work.",
                inputs.devices()
            ),
        ),
    ];
    let mut ts: Vec<i64> = inputs.finished_rows().filter_map(|r| r.timesteps).collect();
    ts.sort_unstable();
    ts.dedup();
    if ts.len() > 1 {
        figures.push((
            "timesteps",
            format!(
                "Test accuracy{selected} (left) and training seconds per epoch (right) against the \
                 timesteps T each sequence is read in (the swept patch: P values per step, T = \
                 ceil(L / P)), one line per width; {spread}. The same LSTM unrolled over more, \
                 smaller steps: the hidden layer is the same H units at every step."
            ),
        ));
    }
    figures
}

/// Whether every row is the one-layer LSTM, and the models of the rows in words.
fn models(inputs: &Inputs) -> (bool, String) {
    let lstm = Arch::lstm(inputs.shape.input, 1, inputs.shape.classes());
    let only_lstm = inputs.rows.iter().all(|r| r.arch.same_shape(&lstm));
    let mut archs: Vec<Arch> = Vec::new();
    for r in &inputs.rows {
        if !archs.iter().any(|a| a.same_shape(&r.arch)) {
            archs.push(r.arch);
        }
    }
    let names = archs
        .iter()
        .map(Arch::describe)
        .collect::<Vec<_>>()
        .join(", ");
    (only_lstm, names)
}

/// The parameter figure's caption: the LSTM's formulas, or, when the sweep has other models
/// (`names`), every cell's; rows of other models get captions that fit every cell.
fn params_caption(inputs: &Inputs, only_lstm: bool, names: &str) -> String {
    let (input, classes) = (inputs.shape.input, inputs.shape.classes());
    if only_lstm {
        format!(
            "Trainable parameters against H: the exact count for input size I = {input} and \
             {classes} classes, in the PyTorch/tch convention (two bias vectors per gate block, \
             4H(I+H) + 8H + {classes}H + {classes}) and the Keras one (one bias vector, \
             4H(I+H) + 4H + {classes}H + {classes}), and the counts of the trained models. For \
             large H the 4H² recurrent weights dominate."
        )
    } else {
        format!(
            "Trainable parameters against H ({names}): the exact count for input size I = \
             {input} and {classes} classes, per layer and direction gH(I_l+H) + 2gH with g = 4 \
             (LSTM), 3 (GRU) or 1 (RNN) and I_l = D·H above the first layer, plus D·H·C + C \
             for the head (PyTorch/tch convention: two bias vectors), and the counts of the \
             trained models. For large H the gH² recurrent weights dominate."
        )
    }
}

/// How the figures show the spread over seeds.
pub fn spread(inputs: &Inputs) -> String {
    if inputs.seed_counts() == "1" {
        "one seed per width, so no error bars".to_string()
    } else {
        format!(
            "points are means and error bars ± one sample standard deviation over {} seeds",
            inputs.seed_counts()
        )
    }
}
