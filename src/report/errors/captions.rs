/*!
The captions report.md gives the figures of a regression or forecasting sweep, in the order it
shows them: the headline error, the epoch it is of, the spread over seeds, and which width the
test-stretch figure draws.
*/
use super::{metric, selected_row, Inputs, Task};
use crate::report::figures::spread;

/// The figures, in the order report.md shows them, with their captions.
pub fn captions(inputs: &Inputs) -> Vec<(&'static str, String)> {
    let m = metric(inputs);
    let spread = spread(inputs);
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
                    "The test stretch{}: the truth, the one-step-ahead forecast of H = {h} (the \
                     width of lowest mean validation {m}; the mean over its seeds, each run's \
                     kept epoch), its prediction intervals shaded where the runs recorded them \
                     (the mean bounds over seeds), and the seasonal-naive and AutoETS forecasts \
                     of the same values.",
                    // Several configurations (series): say which one is drawn.
                    match inputs.variants.len() > 1 {
                        true => format!(" of {}", inputs.variants[row.variant]),
                        false => String::new(),
                    }
                ),
            )),
            _ => out.push((
                "predicted_vs_truth",
                format!(
                    "Test predictions of H = {h} (the width of lowest mean validation RMSE; the \
                     mean over its seeds, each run's kept epoch) against the true values."
                ),
            )),
        }
    }
    if let Some((h, steps)) = super::mase_steps(inputs) {
        out.push((
            "mase_by_step",
            format!(
                "Test MASE at each of the {} steps ahead of H = {h} (the width of lowest mean \
                 validation {m}; the mean over its seeds), of AutoETS and of the seasonal-naive \
                 forecast on the same targets: how the error grows with the step.",
                steps.len()
            ),
        ));
    }
    out
}
