/*!
`rowseq explain`: what num_units is, shown on the model the program really builds.

For a configuration (or a trained run's folder) it builds the model (any cell, layers and
directions), pushes one batch of zeros through it and reads every shape and count off the
tensors and the VarStore: the shape walk of a batch, a parameter table in the PyTorch/tch (two
biases) and Keras conventions (one bias for LSTM and SimpleRNN, two for GRU), memory and FLOPs,
what doubling num_units does, and how num_units relates to the timesteps. For a trained run it
adds measured activation statistics of the hidden units on test data. `diagram_svg` draws the
unrolled network with the shapes on its arrows.

- `mod.rs`: the `Explanation` record and `explain`, which builds and measures the model;
- `words`: image words rewritten for sequences, and the task's words;
- `config`: a configuration given as flags (MNIST's shapes without reading it);
- `run`: a trained run's folder, with measured hidden-unit statistics;
- `shapes`: the shape walk of one batch, step by step;
- `text`: the plain-text rendering; `svg`: the diagram;
- `hidden`: `--hidden`, trained runs' h_t (and c_t) and prediction per step for chosen test
  examples (`hidden_data`), drawn by `hidden_figure`.
*/
mod config;
mod hidden;
mod hidden_data;
mod hidden_figure;
mod run;
mod shapes;
mod svg;
mod text;
mod words;

pub use config::explain_config;
pub use hidden::{hidden, Request as HiddenRequest};
pub use run::explain_run;
use shapes::shape_steps;
use std::fmt::Write as _;
use std::path::Path;
pub use svg::diagram_svg;
pub use text::render_text;

use anyhow::Result;
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::config::{Cell, Pooling, Task};
use crate::data::{Dataset, Source, Summary};
use crate::error::UserError;
use crate::model::{formula, formula_parts, keras_param_count, param_count, Arch, SeqClassifier};
use crate::store;
use crate::summary::thousands;
use crate::train::{eval_batches, evaluate};

/// Everything `explain` says, also its `--format json`.
#[derive(Serialize, Debug)]
pub struct Explanation {
    /// B, T, F, H, C.
    pub batch: i64,
    pub timesteps: i64,
    pub features: i64,
    pub num_units: i64,
    pub classes: i64,
    /// The cell (`lstm`, `gru`, `rnn`), layers L, directions and dropout between layers.
    pub cell: Cell,
    pub layers: i64,
    pub bidirectional: bool,
    pub dropout: f64,
    /// What the head reads of the last layer (`last` unless `pooling = "mean"`).
    #[serde(skip_serializing_if = "is_last")]
    pub pooling: Pooling,
    /// N, the filters of the convolutional branch (none when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub conv_filters: i64,
    /// T·F, the inputs of the linear highway from the window to the outputs (none when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub highway: i64,
    /// E.g. `2-layer bidirectional GRU`.
    pub model: String,
    pub shapes: Vec<ShapeStep>,
    pub parameters: Vec<ParamRow>,
    pub totals: Totals,
    pub doubling: Doubling,
    pub timesteps_vs_units: String,
    /// The words fit images (rows, pixels); `in_sequence_words` makes them fit other sequences.
    #[serde(skip)]
    images: bool,
    /// The dataset T, F and C come from (none for the built-in MNIST shapes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measured>,
    /// Regression or forecasting: C counts the head's outputs (target values), not classes.
    #[serde(skip_serializing_if = "Task::is_classify")]
    pub task: Task,
    /// Forecasting: how the series was cut into windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<String>,
}

impl Explanation {
    /// The model explained.
    pub fn arch(&self) -> Arch {
        Arch {
            cell: self.cell,
            input: self.features,
            hidden: self.num_units,
            layers: self.layers,
            bidirectional: self.bidirectional,
            dropout: self.dropout,
            classes: self.classes,
            pooling: self.pooling,
            conv: self.conv_filters,
            highway: self.highway,
        }
    }
}

/// One step of the shape walk.
#[derive(Serialize, Debug)]
pub struct ShapeStep {
    pub what: String,
    pub expression: String,
    pub shape: Vec<i64>,
}

/// One tensor of the model.
#[derive(Serialize, Debug)]
pub struct ParamRow {
    pub name: String,
    pub shape: Vec<i64>,
    pub count: i64,
}

#[derive(Serialize, Debug, Clone, Copy)]
pub struct Totals {
    /// Counted in the VarStore (PyTorch/tch: b_ih and b_hh per layer and direction).
    pub params_pytorch: i64,
    /// Keras/TensorFlow: one bias vector of gH per layer and direction (LSTM, SimpleRNN), two
    /// for GRU (`reset_after=True`).
    pub params_keras: i64,
    /// `model::param_count`, for comparison with the count (one-layer LSTM: 4H(F+H) + 8H +
    /// CH + C).
    pub formula_pytorch: i64,
    /// `model::keras_param_count` (one-layer LSTM: 4H(F+H) + 4H + CH + C).
    pub formula_keras: i64,
    pub weight_bytes_fp32: i64,
    /// The recurrent state for one batch: h (and c for an LSTM) of every layer and direction,
    /// B x H floats each.
    pub state_bytes_per_batch: i64,
    /// What training keeps for backward, about B x T x kH floats per layer and direction
    /// (k = 7 for LSTM: gates 4H, c, h, tanh c; 5 for GRU: gates 3H, the recurrent part of
    /// the new gate, h; 1 for RNN: h).
    pub activation_bytes_per_batch: i64,
    /// Forward FLOPs of one sequence (a multiply-add is 2; each elementwise op 1).
    pub flops_inference_per_sample: i64,
    /// Forward + backward, about 3x forward.
    pub flops_train_per_sample: i64,
}

#[derive(Serialize, Debug)]
pub struct Doubling {
    pub from_units: i64,
    pub to_units: i64,
    pub params_ratio: f64,
    pub flops_ratio: f64,
    pub state_ratio: f64,
}

/// Activation statistics of a trained model's last layer on the test set, over the real
/// timesteps of every sequence. h_t lies in (-1, 1) for every cell (LSTM: o * tanh(c); GRU: a
/// mix of tanh(n) and h_{t-1}; RNN: tanh), so |h| > 0.95 is saturation for all three.
#[derive(Serialize, Debug)]
pub struct Measured {
    pub run_dir: String,
    /// As recorded in result.json.
    pub test_acc: Option<f64>,
    /// Recomputed here from model.safetensors, in evaluation mode (no dropout): equal to
    /// `test_acc` up to rounding across thread counts (absent for numeric tasks).
    #[serde(skip_serializing_if = "is_nan")]
    pub recomputed_test_acc: f64,
    /// Numeric tasks: the recorded test RMSE, and the one recomputed from the weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_rmse: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recomputed_test_rmse: Option<f64>,
    pub test_images: i64,
    /// Units measured: D x H outputs of the last layer.
    pub units: i64,
    /// Share of all h_t values (every image, real step and unit) with |h| > 0.95.
    pub saturated_share: f64,
    /// Units whose |h| > 0.95 in more than half of their values.
    pub mostly_saturated_units: i64,
    /// Units whose final state (what the head reads) barely moves across test images (std <
    /// 0.01).
    pub constant_units: i64,
    pub mean_abs_h_last: f64,
    /// Units by their share of saturated values: [0, 0.1), [0.1, 0.5), [0.5, 0.9), [0.9, 1].
    pub saturation_histogram: [i64; 4],
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

fn is_last(p: &Pooling) -> bool {
    *p == Pooling::Last
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Shapes the model `arch` for a batch of B sequences of T steps.
pub fn explain(arch: &Arch, batch: i64, timesteps: i64) -> Explanation {
    let a = arch;
    let (b, t, h) = (batch, timesteps, a.hidden);
    // Every shape and count from the architecture alone: no weights are allocated, so any
    // width the config allows is explained, however much memory training it would need.
    let vars = variables(a);
    let shapes = shape_steps(a, &vars, b, t);
    let mut parameters: Vec<ParamRow> = vars
        .into_iter()
        .map(|(name, shape)| ParamRow {
            count: shape.iter().product(),
            shape,
            name,
        })
        .collect();
    parameters.sort_by(|a, b| a.name.cmp(&b.name));
    let counted = parameters.iter().map(|p| p.count).sum();
    let totals = totals(counted, a, b, t);
    let double = explain_totals(&a.with_hidden(2 * h), b, t);
    Explanation {
        batch: b,
        timesteps: t,
        features: a.input,
        num_units: h,
        classes: a.classes,
        cell: a.cell,
        layers: a.layers,
        bidirectional: a.bidirectional,
        dropout: a.dropout,
        pooling: a.pooling,
        conv_filters: a.conv,
        highway: a.highway,
        model: a.describe(),
        shapes,
        parameters,
        totals,
        doubling: Doubling {
            from_units: h,
            to_units: 2 * h,
            params_ratio: double.params_pytorch as f64 / totals.params_pytorch as f64,
            flops_ratio: double.flops_inference_per_sample as f64
                / totals.flops_inference_per_sample as f64,
            state_ratio: 2.0,
        },
        timesteps_vs_units: timesteps_vs_units(a, t),
        images: true,
        data: None,
        measured: None,
        task: Task::Classify,
        windows: None,
    }
}

/// The paragraph that tells timesteps from units, for this model.
fn timesteps_vs_units(a: &Arch, t: i64) -> String {
    let (h, d, w) = (a.hidden, a.directions(), a.width());
    let and_c = if a.cell == Cell::Lstm {
        "h_t and c_t have"
    } else {
        "h_t has"
    };
    let mut text = format!(
        "num_units is not the number of timesteps. The {} is one cell applied T = {t} times \
         (once per row), with the same weights every time; each application has H = {h} units, \
         so {and_c} {h} numbers per image at every step. T comes from the data, H is \
         your choice: changing H changes the parameters, not the number of steps.",
        a.cell.title()
    );
    if a.layers > 1 || a.bidirectional {
        let _ = write!(
            text,
            " This model has {} such cells of H = {h} units each ({} layer{} x {d} \
             direction{}), so every step gives D x H = {w} numbers per image to the layer \
             above or the head.",
            a.layers * d,
            a.layers,
            if a.layers == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" },
        );
    }
    text
}

/// Totals of a model (its variables counted, as `variables` names them).
fn explain_totals(a: &Arch, b: i64, t: i64) -> Totals {
    let counted = variables(a)
        .iter()
        .map(|(_, s)| s.iter().product::<i64>())
        .sum();
    totals(counted, a, b, t)
}

/// The variables `SeqClassifier::new` creates for `a`, by name (`lstm.weight_ih_l0`, ...,
/// `head.weight`, `head.bias`) with their shapes, without creating them.
pub fn variables(a: &Arch) -> Vec<(String, Vec<i64>)> {
    let rows = a.cell.gates() * a.hidden;
    let mut vars = Vec::new();
    for l in 0..a.layers {
        let suffixes: &[&str] = if a.bidirectional {
            &["", "_reverse"]
        } else {
            &[""]
        };
        for suffix in suffixes {
            let name = |what: &str| format!("{}.{what}_l{l}{suffix}", a.cell.name());
            vars.push((name("weight_ih"), vec![rows, a.layer_input(l)]));
            vars.push((name("weight_hh"), vec![rows, a.hidden]));
            vars.push((name("bias_ih"), vec![rows]));
            vars.push((name("bias_hh"), vec![rows]));
        }
    }
    for (i, (inputs, filters, kernel)) in a.conv_blocks().into_iter().enumerate() {
        let n = i + 1;
        vars.push((
            format!("conv.conv{n}.weight"),
            vec![filters, inputs, kernel],
        ));
        vars.push((format!("conv.conv{n}.bias"), vec![filters]));
        vars.push((format!("conv.bn{n}.weight"), vec![filters]));
        vars.push((format!("conv.bn{n}.bias"), vec![filters]));
    }
    vars.push(("head.weight".into(), vec![a.classes, a.head_input()]));
    vars.push(("head.bias".into(), vec![a.classes]));
    if a.highway > 0 {
        vars.push(("highway.weight".into(), vec![a.classes, a.highway]));
        vars.push(("highway.bias".into(), vec![a.classes]));
    }
    vars
}

/// Floats of state per unit (h, and c for an LSTM), kept-for-backward floats per unit and
/// step, and elementwise operations per unit and step.
fn per_unit(cell: Cell) -> (i64, i64, i64) {
    match cell {
        // sigmoid x3, tanh g, f*c, i*g, +, tanh c, o*tanh c
        Cell::Lstm => (2, 7, 9),
        // sigmoid x2, r*(W_hn h + b_hn), +, tanh, 1-z, (1-z)*n, z*h, +
        Cell::Gru => (1, 5, 9),
        // tanh
        Cell::Rnn => (1, 1, 1),
    }
}

fn totals(counted: i64, a: &Arch, b: i64, t: i64) -> Totals {
    let (h, c, g, d) = (a.hidden, a.classes, a.cell.gates(), a.directions());
    let (state, kept, elementwise) = per_unit(a.cell);
    let cells = a.layers * d;
    // The matmuls (2 FLOPs a multiply-add), the bias adds and the elementwise gate ops.
    let per_step = 2 * a.recurrent_macs() + cells * (2 * g * h + elementwise * h);
    // The convolutional branch: its multiply-adds and, per filter and step, the bias, batch
    // norm (2) and ReLU; its mean.
    let conv_filters: i64 = a.conv_blocks().iter().map(|(_, o, _)| o).sum();
    let conv = 2 * a.conv_macs() + 4 * conv_filters;
    let inference = t * (per_step + conv) + 2 * c * a.head_input() + c + 2 * c * a.highway;
    let (torch, keras) = (param_count(a), keras_param_count(a));
    Totals {
        params_pytorch: counted,
        params_keras: counted - (torch - keras),
        formula_pytorch: torch,
        formula_keras: keras,
        weight_bytes_fp32: 4 * counted,
        state_bytes_per_batch: 4 * state * b * h * cells,
        // The branch keeps each block's convolution, normalised values and ReLU.
        activation_bytes_per_batch: 4 * b * t * (kept * h * cells + 3 * conv_filters),
        flops_inference_per_sample: inference,
        flops_train_per_sample: 3 * inference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{full_lengths, SeqClassifier};
    use tch::{nn, Device, Kind, Tensor};

    /// `explain` builds nothing: its variables and shapes are those of the real model, pushed
    /// a batch of zeros, for every cell, stack and direction.
    #[test]
    fn the_arithmetic_matches_the_model_it_describes() {
        for cell in [Cell::Lstm, Cell::Gru, Cell::Rnn] {
            // The highway reads the whole window: T·F = 7·5 values.
            for (layers, bidirectional, pooling, conv, highway) in [
                (1, false, Pooling::Last, 0, 0),
                (3, false, Pooling::Last, 0, 0),
                (2, true, Pooling::Last, 0, 0),
                (1, false, Pooling::Mean, 0, 0),
                (1, false, Pooling::Last, 4, 0),
                (2, true, Pooling::Mean, 3, 0),
                (1, false, Pooling::Last, 0, 35),
                (2, true, Pooling::Last, 3, 35),
            ] {
                let a = Arch {
                    cell,
                    layers,
                    bidirectional,
                    pooling,
                    conv,
                    highway,
                    ..Arch::lstm(5, 6, 3)
                };
                let (b, t) = (4, 7);
                let vs = nn::VarStore::new(Device::Cpu);
                let model = SeqClassifier::new(&vs.root(), &a);
                let mut built: Vec<(String, Vec<i64>)> = vs
                    .variables()
                    .into_iter()
                    .filter(|(n, _)| !n.contains(".running_"))
                    .map(|(n, v)| (n, v.size()))
                    .collect();
                built.sort();
                let mut ours = variables(&a);
                ours.sort();
                assert_eq!(ours, built, "{}", a.describe());
                let x = Tensor::zeros([b, t, 5], (Kind::Float, Device::Cpu));
                let seq =
                    tch::no_grad(|| model.sequence(&x, &full_lengths(b, t, Device::Cpu), false));
                let logits = tch::no_grad(|| model.logits(&seq.readout));
                let e = explain(&a, b, t);
                let shape_of = |expr: &str| {
                    e.shapes
                        .iter()
                        .filter(|s| s.expression.starts_with(expr))
                        .map(|s| s.shape.clone())
                        .collect::<Vec<_>>()
                };
                assert!(shape_of("outputs")
                    .iter()
                    .all(|s| *s == seq.layers[0].size()));
                for l in 1..layers as usize {
                    assert_eq!(
                        shape_of(&format!("outputs_l{l}")),
                        vec![seq.layers[l].size()]
                    );
                }
                assert_eq!(shape_of("logits"), vec![logits.size()]);
                let full =
                    tch::no_grad(|| model.forward(&x, &full_lengths(b, t, Device::Cpu), false));
                assert_eq!(full.size(), logits.size());
                let last = if bidirectional {
                    "[h_T | h'_1]"
                } else {
                    "h_T ="
                };
                assert_eq!(shape_of(last), vec![seq.last.size()]);
                if let Some(c) = &seq.cell_state {
                    assert_eq!(shape_of("c_t"), vec![c.size()]);
                }
                assert_eq!(e.totals.params_pytorch, crate::model::counted_params(&vs));
            }
        }
    }

    /// The widest model the config allows is explained from arithmetic alone: 65,536 units
    /// would need some 69 GB for its weights alone (issue #36, item 7).
    #[test]
    fn the_widest_model_is_explained_without_building_it() {
        let e = explain(&Arch::lstm(28, 65536, 10), 128, 28);
        assert_eq!(
            e.totals.params_pytorch,
            4 * 65536 * (28 + 65536 + 2) + 10 * 65536 + 10
        );
    }

    #[test]
    fn shapes_and_counts_match_the_formulas() {
        for (h, b) in [(8, 32), (128, 128), (256, 64)] {
            let e = explain(&Arch::lstm(28, h, 10), b, 28);
            let t = &e.totals;
            assert_eq!(t.params_pytorch, t.formula_pytorch, "H = {h}");
            assert_eq!(t.params_keras, t.formula_keras, "H = {h}");
            assert_eq!(t.params_pytorch - t.params_keras, 4 * h);
            let shape_of = |expr: &str| {
                e.shapes
                    .iter()
                    .find(|s| s.expression.starts_with(expr))
                    .unwrap()
                    .shape
                    .clone()
            };
            assert_eq!(shape_of("x"), vec![b, 28, 28]);
            assert_eq!(shape_of("x_t"), vec![b, 28]);
            assert_eq!(shape_of("W_ih"), vec![4 * h, 28]);
            assert_eq!(shape_of("W_hh"), vec![4 * h, h]);
            assert_eq!(shape_of("x_t W_ih^T"), vec![b, 4 * h]);
            assert_eq!(shape_of("h_t"), vec![b, h]);
            assert_eq!(shape_of("outputs"), vec![b, 28, h]);
            assert_eq!(shape_of("logits"), vec![b, 10]);
            assert_eq!(
                e.parameters.iter().map(|p| p.count).sum::<i64>(),
                t.params_pytorch
            );
            assert_eq!(t.weight_bytes_fp32, 4 * t.params_pytorch);
            assert_eq!(t.state_bytes_per_batch, 2 * b * h * 4);
        }
        assert_eq!(
            explain(&Arch::lstm(28, 128, 10), 128, 28)
                .totals
                .params_pytorch,
            82_186
        );
        assert_eq!(
            explain(&Arch::lstm(28, 128, 10), 128, 28)
                .totals
                .params_keras,
            81_674
        );
    }

    #[test]
    fn every_cell_and_stack_is_counted_and_shaped() {
        for cell in Cell::ALL {
            for (layers, bidirectional, dropout) in [(1, false, 0.0), (3, true, 0.25)] {
                let a = Arch {
                    cell,
                    layers,
                    bidirectional,
                    dropout,
                    ..Arch::lstm(28, 16, 10)
                };
                let e = explain(&a, 4, 28);
                let t = &e.totals;
                let what = a.describe();
                assert_eq!(t.params_pytorch, t.formula_pytorch, "{what}");
                assert_eq!(t.params_pytorch, param_count(&a), "{what}");
                assert_eq!(t.params_keras, keras_param_count(&a), "{what}");
                assert_eq!(
                    e.parameters.iter().map(|p| p.count).sum::<i64>(),
                    t.params_pytorch
                );
                assert_eq!(e.parameters.len() as i64, 4 * layers * a.directions() + 2);
                let last = e.shapes.iter().rev().nth(1).unwrap();
                assert_eq!(last.shape, vec![4, a.width()], "{what}");
                assert_eq!(e.shapes.last().unwrap().shape, vec![4, 10]);
                let (state, _, _) = per_unit(cell);
                assert_eq!(
                    t.state_bytes_per_batch,
                    4 * state * 4 * 16 * layers * a.directions()
                );
                let text = render_text(&e);
                assert!(text.contains(&formula(&a, false, "F", None)), "{text}");
                assert!(text.contains(&thousands(t.params_keras)), "{text}");
                let svg = diagram_svg(&e);
                assert!(svg.contains(&format!("{} cell, t = 1", cell.title())));
                assert!(svg.contains(&thousands(t.params_pytorch)));
                if layers > 1 {
                    assert!(e.shapes.iter().any(
                        |s| s.expression == "W_ih_l2" && s.shape == vec![cell.gates() * 16, 32]
                    ));
                    assert!(e.shapes.iter().any(|s| s.expression == "dropout(outputs)"));
                }
            }
        }
    }

    #[test]
    fn doubling_grows_towards_four_times() {
        let small = explain(&Arch::lstm(28, 8, 10), 1, 28).doubling;
        let large = explain(&Arch::lstm(28, 512, 10), 1, 28).doubling;
        assert!(
            small.params_ratio > 2.0 && small.params_ratio < 3.0,
            "{small:?}"
        );
        assert!(
            large.params_ratio > 3.8 && large.params_ratio < 4.0,
            "{large:?}"
        );
        assert!(
            large.flops_ratio > 3.8 && large.flops_ratio < 4.0,
            "{large:?}"
        );
    }

    #[test]
    fn diagram_names_the_shapes() {
        let svg = diagram_svg(&explain(&Arch::lstm(28, 128, 10), 64, 28));
        for want in [
            "H = 128 units",
            "x_1 [64, 28]",
            "h, c [64, 128]",
            "logits [64, 10]",
            "82,186",
        ] {
            assert!(svg.contains(want), "missing {want}");
        }
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
