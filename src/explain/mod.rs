/*!
`rowseq explain`: what num_units is, shown on the model the program really builds.

For a configuration (or a trained run's folder) it builds the model (any cell, layers and
directions), pushes one batch of zeros through it and reads every shape and count off the
tensors and the VarStore: the shape walk of a batch, a parameter table in the PyTorch/tch (two
biases) and Keras conventions (one bias for LSTM and SimpleRNN, two for GRU), memory and FLOPs,
what doubling num_units does, and how num_units relates to the timesteps. For a trained run it
adds measured activation statistics of the hidden units on test data. `diagram_svg` draws the
unrolled network with the shapes on its arrows.
*/
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::config::{Cell, Task};
use crate::data::{Dataset, Source, Summary};
use crate::error::UserError;
use crate::model::{
    counted_params, formula, formula_parts, full_lengths, keras_param_count, param_count, Arch,
    SeqClassifier,
};
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

/// Shapes the model `arch` for a batch of B sequences of T steps.
pub fn explain(arch: &Arch, batch: i64, timesteps: i64) -> Explanation {
    let a = arch;
    let (b, t, f, h, c) = (batch, timesteps, a.input, a.hidden, a.classes);
    let (g, d, w) = (a.cell.gates(), a.directions(), a.width());
    let vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), a);
    let x = Tensor::zeros([b, t, f], (Kind::Float, Device::Cpu));
    let (seq, logits) = tch::no_grad(|| {
        let s = model.sequence(&x, &full_lengths(b, t, Device::Cpu), false);
        let logits = model.logits(&s.last);
        (s, logits)
    });
    let vars = vs.variables();
    let var = |name: &str| vars[&format!("{}.{name}", a.cell.name())].size();
    let (w_ih, w_hh, b_ih) = (var("weight_ih_l0"), var("weight_hh_l0"), var("bias_ih_l0"));
    let x_t = x.select(1, 0).size();
    let first = &seq.layers[0];
    let h_t = first.select(1, 0).narrow(1, 0, h).size();
    let gate_rows = w_ih[0];
    let stacked = match a.cell {
        Cell::Lstm => "input weights (all 4 gates stacked)",
        Cell::Gru => "input weights (reset, update and new gates stacked)",
        Cell::Rnn => "input weights",
    };
    let mut shapes = vec![
        step(
            "input batch: B images, T rows each, F pixels per row",
            "x",
            x.size(),
        ),
        step(
            "one timestep: row t of every image",
            "x_t = x[:, t, :]",
            x_t.clone(),
        ),
        step(stacked, "W_ih", w_ih.clone()),
        step("recurrent weights", "W_hh", w_hh.clone()),
        step("biases (two in PyTorch/tch)", "b_ih, b_hh", b_ih.clone()),
    ];
    match a.cell {
        Cell::Lstm => {
            let c_t = seq.cell_state.as_ref().expect("an LSTM has a cell state");
            shapes.extend([
                step(
                    "gate pre-activations",
                    "x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh",
                    vec![x_t[0], gate_rows],
                ),
                step(
                    "split into input/forget/cell/output gates",
                    "i, f, g, o",
                    vec![x_t[0], gate_rows / g],
                ),
                step("cell state", "c_t = f * c_{t-1} + i * g", c_t.size()),
                step("hidden state", "h_t = o * tanh(c_t)", h_t.clone()),
            ]);
        }
        Cell::Gru => shapes.extend([
            step(
                "input and recurrent pre-activations, kept apart",
                "x_t W_ih^T + b_ih, h_{t-1} W_hh^T + b_hh",
                vec![x_t[0], gate_rows],
            ),
            step(
                "reset and update gates, new state candidate",
                "r, z = sigmoid(..), n = tanh(x-part + r * h-part)",
                vec![x_t[0], gate_rows / g],
            ),
            step(
                "hidden state",
                "h_t = (1 - z) * n + z * h_{t-1}",
                h_t.clone(),
            ),
        ]),
        Cell::Rnn => shapes.push(step(
            "hidden state",
            "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
            h_t.clone(),
        )),
    }
    if a.bidirectional {
        shapes.push(step(
            "all forward hidden states",
            "[h_1 .. h_T]",
            first.narrow(2, 0, h).size(),
        ));
        shapes.push(step(
            "backward direction: its own weights (_reverse), each sequence read from its last \
             real step to its first",
            "[h'_1 .. h'_T]",
            first.narrow(2, h, h).size(),
        ));
        shapes.push(step(
            "both directions side by side",
            "outputs = [h | h']",
            first.size(),
        ));
    } else {
        shapes.push(step(
            "all hidden states",
            "outputs = [h_1 .. h_T]",
            first.size(),
        ));
    }
    for (l, out) in seq.layers.iter().enumerate().skip(1) {
        if a.dropout > 0.0 {
            shapes.push(step(
                &format!(
                    "dropout p = {} on layer {l}'s outputs (training only)",
                    a.dropout
                ),
                "dropout(outputs)",
                seq.layers[l - 1].size(),
            ));
        }
        shapes.push(step(
            &format!("layer {}: input weights read layer {l}'s outputs", l + 1),
            &format!("W_ih_l{l}"),
            var(&format!("weight_ih_l{l}")),
        ));
        shapes.push(step(
            &format!("layer {}'s outputs", l + 1),
            &format!("outputs_l{l}"),
            out.size(),
        ));
    }
    if a.bidirectional {
        shapes.push(step(
            "what the head sees: forward state at the last step, backward state at the first",
            "[h_T | h'_1]",
            seq.last.size(),
        ));
    } else {
        shapes.push(step(
            "last hidden state (what the head sees)",
            "h_T = outputs[:, T-1, :]",
            seq.last.size(),
        ));
    }
    let head_input = if a.bidirectional {
        "[h_T | h'_1]"
    } else {
        "h_T"
    };
    shapes.push(step(
        "class scores",
        &format!("logits = {head_input} W^T + b"),
        logits.size(),
    ));
    let mut parameters: Vec<ParamRow> = vars
        .iter()
        .map(|(name, t)| ParamRow {
            count: t.numel() as i64,
            shape: t.size(),
            name: name.clone(),
        })
        .collect();
    parameters.sort_by(|a, b| a.name.cmp(&b.name));
    let counted = counted_params(&vs);
    let totals = totals(counted, a, b, t);
    let double = explain_totals(&a.with_hidden(2 * h), b, t);
    let and_c = if a.cell == Cell::Lstm {
        "h_t and c_t have"
    } else {
        "h_t has"
    };
    let mut timesteps_vs_units = format!(
        "num_units is not the number of timesteps. The {} is one cell applied T = {t} times \
         (once per row), with the same weights every time; each application has H = {h} units, \
         so {and_c} {h} numbers per image at every step. T comes from the data, H is \
         your choice: changing H changes the parameters, not the number of steps.",
        a.cell.title()
    );
    if a.layers > 1 || a.bidirectional {
        let _ = write!(
            timesteps_vs_units,
            " This model has {} such cells of H = {h} units each ({} layer{} x {d} \
             direction{}), so every step gives D x H = {w} numbers per image to the layer \
             above or the head.",
            a.layers * d,
            a.layers,
            if a.layers == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" },
        );
    }
    Explanation {
        batch: b,
        timesteps: t,
        features: f,
        num_units: h,
        classes: c,
        cell: a.cell,
        layers: a.layers,
        bidirectional: a.bidirectional,
        dropout: a.dropout,
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
        timesteps_vs_units,
        images: true,
        data: None,
        measured: None,
        task: Task::Classify,
        windows: None,
    }
}

/// Totals of a model (parameters counted in a real VarStore).
fn explain_totals(a: &Arch, b: i64, t: i64) -> Totals {
    let vs = nn::VarStore::new(Device::Cpu);
    let _ = SeqClassifier::new(&vs.root(), a);
    totals(counted_params(&vs), a, b, t)
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
    let per_step: i64 = (0..a.layers)
        .map(|l| d * (2 * g * h * (a.layer_input(l) + h) + 2 * g * h + elementwise * h))
        .sum();
    let inference = t * per_step + 2 * c * a.width() + c;
    let (torch, keras) = (param_count(a), keras_param_count(a));
    Totals {
        params_pytorch: counted,
        params_keras: counted - (torch - keras),
        formula_pytorch: torch,
        formula_keras: keras,
        weight_bytes_fp32: 4 * counted,
        state_bytes_per_batch: 4 * state * b * h * cells,
        activation_bytes_per_batch: 4 * b * t * kept * h * cells,
        flops_inference_per_sample: inference,
        flops_train_per_sample: 3 * inference,
    }
}

fn step(what: &str, expression: &str, shape: Vec<i64>) -> ShapeStep {
    ShapeStep {
        what: what.into(),
        expression: expression.into(),
        shape,
    }
}

/// Image words ("rows", "pixels") in the shape walk and text, for sequences that are not
/// images: timesteps, features, sequences.
const SEQUENCE_WORDS: [(&str, &str); 5] = [
    (
        "B images, T rows each, F pixels per row",
        "B sequences, T timesteps each, F features per step",
    ),
    ("row t of every image", "step t of every sequence"),
    ("(once per row)", "(once per timestep)"),
    ("per image", "per sequence"),
    ("test images", "test sequences"),
];

impl Explanation {
    /// Records the data the shapes come from; words fit sequences unless the data are images.
    pub fn with_data(self, data: Summary) -> Explanation {
        let mut e = if data.images {
            self
        } else {
            self.in_sequence_words()
        };
        e.data = Some(data);
        e
    }

    /// The explanation of a run on `data`, in the words of its task: the head's outputs are the
    /// predicted target values for regression and forecasting, and a forecast says how its
    /// windows were cut from the series.
    pub fn with_task(mut self, data: &Dataset) -> Explanation {
        self.task = data.task;
        let Some(target) = &data.target else {
            return self;
        };
        let head = match &data.forecast {
            Some(f) => format!(
                "the next {} value{} of {} ({})",
                f.horizon,
                if f.horizon == 1 { "" } else { "s" },
                target.name,
                match f.relative {
                    true => "changes from the window's last value, over its std",
                    false => "z-scores of it",
                }
            ),
            None => format!("the predicted {} (a z-score of it)", target.name),
        };
        if let Some(last) = self.shapes.last_mut() {
            last.what = head;
            last.expression = last.expression.replace("logits", "y_hat");
        }
        if let Some(f) = &data.forecast {
            let c = f.stretches;
            self.windows = Some(format!(
                "the series is cut in time into {} training, {} validation and {} test steps; a \
                 window is the {} steps up to a time t (read as T = {} timesteps of F = {} \
                 features), its target {} at t+1..t+{}; {} / {} / {} windows have their targets \
                 in each stretch (validation and test windows may read earlier steps, never \
                 later ones)",
                c.train,
                c.val,
                c.test,
                c.window,
                data.seq_len,
                data.features,
                target.name,
                f.horizon,
                data.train.len(),
                data.val.len(),
                data.test.len()
            ));
        }
        self
    }

    /// The same explanation in the words of sequences (timesteps, features), not images.
    pub fn in_sequence_words(mut self) -> Explanation {
        for step in &mut self.shapes {
            step.what = sequence_words(&step.what);
        }
        self.timesteps_vs_units = sequence_words(&self.timesteps_vs_units);
        self.images = false;
        self
    }
}

fn sequence_words(text: &str) -> String {
    SEQUENCE_WORDS
        .iter()
        .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

/// Explains a trained run's folder: its config, plus activation statistics on its test data.
pub fn explain_run(run_dir: &Path, data_dir: Option<&Path>) -> Result<Explanation> {
    let run = store::RunDir {
        path: run_dir.to_path_buf(),
    };
    let cfg = run.config()?;
    if !run_dir.join(store::WEIGHTS).is_file() {
        return Err(
            UserError::store(run_dir, "no model.safetensors: the run has not finished").into(),
        );
    }
    let source = Source::load(&cfg, data_dir)?;
    let data = source.split(&cfg)?;
    let cfg = crate::data::auto::resolve(&cfg, &data);
    let arch = Arch::of(&cfg, data.features, data.classes());
    let e = explain(&arch, cfg.batch_size.get() as i64, data.seq_len);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), &arch);
    run.load_weights(&mut vs, (data.features, data.classes()))?;
    let result = run.finished();
    let mut e = e.with_data(source.summary()).with_task(&data);
    e.measured = Some(measure(&model, &data, run_dir, result.as_ref()));
    Ok(e)
}

/// Hidden-unit statistics of the last layer over the test set, real timesteps only.
fn measure(
    model: &SeqClassifier,
    data: &Dataset,
    run_dir: &Path,
    result: Option<&crate::records::RunResult>,
) -> Measured {
    let numeric = data.task.is_numeric();
    let (recomputed_test_acc, recomputed_test_rmse) = match numeric {
        true => (
            f64::NAN,
            crate::train::score(model, &data.test, data)
                .2
                .map(|e| e.rmse),
        ),
        false => (evaluate(model, &data.test).1, None),
    };
    let n = data.test.len() as i64;
    let units = model.arch.width();
    tch::no_grad(|| {
        let mut saturated = Tensor::zeros([units], (Kind::Float, Device::Cpu));
        let mut lasts = Vec::new();
        for batch in eval_batches(&data.test) {
            let s = model.sequence(&batch.x, &batch.lengths, false);
            let t = batch.x.size()[1];
            let real = Tensor::arange(t, (Kind::Int64, Device::Cpu))
                .view([1, t, 1])
                .lt_tensor(&batch.lengths.view([-1, 1, 1]));
            saturated += (s.outputs().abs().gt(0.95).logical_and(&real))
                .to_kind(Kind::Float)
                .sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Float);
            lasts.push(s.last);
        }
        let steps = data.test.lengths.sum(Kind::Int64).int64_value(&[]).max(1);
        let share = saturated / steps as f64;
        let last = Tensor::cat(&lasts, 0);
        let std = last.std_dim([0i64].as_slice(), true, false);
        let shares: Vec<f64> = Vec::<f32>::try_from(&share)
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect();
        let mut histogram = [0i64; 4];
        for s in &shares {
            let bin = if *s < 0.1 {
                0
            } else if *s < 0.5 {
                1
            } else if *s < 0.9 {
                2
            } else {
                3
            };
            histogram[bin] += 1;
        }
        Measured {
            run_dir: run_dir.display().to_string(),
            test_acc: result.map(|r| r.test_acc).filter(|_| !numeric),
            recomputed_test_acc,
            test_rmse: result.and_then(|r| r.errors.test_rmse),
            recomputed_test_rmse,
            test_images: n,
            units,
            saturated_share: share.mean(Kind::Float).double_value(&[]),
            mostly_saturated_units: shares.iter().filter(|s| **s > 0.5).count() as i64,
            constant_units: std.lt(0.01).sum(Kind::Int64).int64_value(&[]),
            mean_abs_h_last: last.abs().mean(Kind::Float).double_value(&[]),
            saturation_histogram: histogram,
        }
    })
}

/// The explanation as plain text.
pub fn render_text(e: &Explanation) -> String {
    let (b, t, f, h, c) = (e.batch, e.timesteps, e.features, e.num_units, e.classes);
    let a = e.arch();
    let mut s = String::new();
    let _ = write!(s, "{} with num_units H = {h}", e.model);
    if a.layers > 1 || a.bidirectional {
        let _ = write!(
            s,
            " per layer and direction (L = {}, D = {}{})",
            a.layers,
            a.directions(),
            if a.dropout > 0.0 {
                format!(", dropout {} between layers", a.dropout)
            } else {
                String::new()
            }
        );
    }
    let outputs = match e.task {
        Task::Classify => "classes C",
        _ => "outputs C",
    };
    let _ = writeln!(
        s,
        ", batch B = {b}, timesteps T = {t}, features F = {f}, {outputs} = {c}"
    );
    if let Some(d) = &e.data {
        let _ = writeln!(s, "Data: {}", d.line());
    }
    if let Some(w) = &e.windows {
        let _ = writeln!(s, "Windows: {w}");
    }
    let _ = writeln!(s, "\nShape walk of one batch (read off the tensors):");
    let width = e
        .shapes
        .iter()
        .map(|x| x.expression.len())
        .max()
        .unwrap_or(0);
    for st in &e.shapes {
        let _ = writeln!(
            s,
            "  {:<width$}  {:<14} {}",
            st.expression,
            shape(&st.shape),
            st.what
        );
    }
    let zero = if a.cell == Cell::Lstm {
        "h_0 = c_0 = 0"
    } else {
        "h_0 = 0"
    };
    let _ = writeln!(
        s,
        "  (repeated for t = 1..{t} with the same weights; {zero}; a sequence shorter than T is \
         padded at its end and read up to its own length)"
    );
    let _ = writeln!(s, "\nParameters (from the VarStore):");
    let name_width = e
        .parameters
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(20);
    for p in &e.parameters {
        let _ = writeln!(
            s,
            "  {:<name_width$} {:<12} {:>10}",
            p.name,
            shape(&p.shape),
            thousands(p.count)
        );
    }
    let tt = &e.totals;
    let _ = writeln!(
        s,
        "  {:<name_width$} {:<12} {:>10}   = {} = {}",
        "total (PyTorch/tch)",
        "",
        thousands(tt.params_pytorch),
        formula(&a, false, "F", None),
        thousands(tt.formula_pytorch)
    );
    let keras_note = match a.cell {
        Cell::Lstm => "one bias per gate",
        Cell::Gru => "GRU with reset_after=True: two biases, as PyTorch",
        Cell::Rnn => "SimpleRNN: one bias",
    };
    let _ = writeln!(
        s,
        "  {:<name_width$} {:<12} {:>10}   = {} = {} ({keras_note})",
        "total (Keras/TF)",
        "",
        thousands(tt.params_keras),
        formula(&a, true, "F", None),
        thousands(tt.formula_keras)
    );
    let _ = writeln!(s, "\nMemory and compute:");
    let _ = writeln!(
        s,
        "  weights, fp32:                       {}",
        bytes(tt.weight_bytes_fp32)
    );
    let (state, kept, _) = per_unit(a.cell);
    let cells = a.layers * a.directions();
    let times_cells = if cells > 1 {
        format!(" x {cells}")
    } else {
        String::new()
    };
    let state_what = if a.cell == Cell::Lstm {
        format!("h and c for one batch ({state} x B x H{times_cells}):")
    } else {
        format!("h for one batch (B x H{times_cells}):")
    };
    let kept_what = format!("kept for backward per batch (~BT{kept}H{times_cells}):");
    let _ = writeln!(s, "  {state_what:<36} {}", bytes(tt.state_bytes_per_batch));
    let _ = writeln!(
        s,
        "  {kept_what:<36} {}",
        bytes(tt.activation_bytes_per_batch)
    );
    let _ = writeln!(
        s,
        "  FLOPs per image, inference:          {}",
        thousands(tt.flops_inference_per_sample)
    );
    let _ = writeln!(
        s,
        "  FLOPs per image, training step:      {} (~3x inference)",
        thousands(tt.flops_train_per_sample)
    );
    let d = &e.doubling;
    let _ = writeln!(s, "\nDoubling num_units {} -> {}: parameters x{:.2}, FLOPs x{:.2}, state x{:.0} (the H x H recurrent matrix makes both grow ~4x for large H)", d.from_units, d.to_units, d.params_ratio, d.flops_ratio, d.state_ratio);
    let _ = writeln!(s, "\nTimesteps vs units: {}", e.timesteps_vs_units);
    if let Some(m) = &e.measured {
        let _ = writeln!(
            s,
            "\nMeasured on {} test images of {}:",
            m.test_images, m.run_dir
        );
        if m.units != h {
            let _ = writeln!(
                s,
                "  (the {} outputs of the last layer, both directions)",
                m.units
            );
        }
        match (m.recomputed_test_rmse, m.test_acc) {
            (Some(rmse), _) => {
                let _ = writeln!(
                    s,
                    "  test RMSE:                              {} (recomputed from the \
                     weights: {})",
                    crate::records::sig(m.test_rmse),
                    crate::records::sig(Some(rmse))
                );
            }
            (None, Some(acc)) => {
                let _ = writeln!(
                    s,
                    "  test accuracy:                          {acc:.4} (recomputed from the \
                     weights: {:.4})",
                    m.recomputed_test_acc
                );
            }
            (None, None) => {
                let _ = writeln!(
                    s,
                    "  test accuracy (from the weights):       {:.4}",
                    m.recomputed_test_acc
                );
            }
        }
        let _ = writeln!(
            s,
            "  share of h_t values with |h| > 0.95:     {:.3}",
            m.saturated_share
        );
        let _ = writeln!(
            s,
            "  units saturated more than half the time: {} of {}",
            m.mostly_saturated_units, m.units
        );
        let _ = writeln!(
            s,
            "  units whose h_T never moves (std<0.01):  {} of {}",
            m.constant_units, m.units
        );
        let _ = writeln!(
            s,
            "  mean |h_T|:                              {:.3}",
            m.mean_abs_h_last
        );
        let hist = m.saturation_histogram;
        let _ = writeln!(
            s,
            "  units by saturated share: <0.1: {}, 0.1-0.5: {}, 0.5-0.9: {}, >=0.9: {}",
            hist[0], hist[1], hist[2], hist[3]
        );
    }
    if e.images {
        s
    } else {
        sequence_words(&s)
    }
}

fn shape(s: &[i64]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", n / 1024.0 / 1024.0)
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// An SVG drawing of the unrolled network: cells for t = 1, 2, 3, ..., T sharing weights,
/// each holding H units, with the shapes on the arrows.
pub fn diagram_svg(e: &Explanation) -> String {
    let (b, t, f, h, c) = (e.batch, e.timesteps, e.features, e.num_units, e.classes);
    let a = e.arch();
    let (cell, w) = (a.cell.title(), a.width());
    let state = if a.cell == Cell::Lstm { "h, c" } else { "h" };
    let head_in = if a.bidirectional {
        "[h_T | h'_1]"
    } else {
        "h_T"
    };
    let (recurrent_formula, head_formula) = formula_parts(&a, false, "F", None);
    let recurrent = e.totals.formula_pytorch - (w * c + c);
    let stack = if a.layers > 1 || a.bidirectional {
        format!(
            r##"<text x="40" y="74" fill="#555">Drawn: the first layer's forward cell. The model ({}) has {} such cells{}; the head reads D x H = {w} numbers per image.</text>
"##,
            e.model,
            a.layers * a.directions(),
            if a.dropout > 0.0 {
                format!(", dropout {} between layers in training", a.dropout)
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    let steps: Vec<String> = vec![
        "1".into(),
        "2".into(),
        "3".into(),
        "…".into(),
        t.to_string(),
    ];
    let (cell_w, cell_h, gap, x0, y0) = (120.0, 70.0, 70.0, 40.0, 110.0);
    let width = x0 * 2.0 + steps.len() as f64 * cell_w + (steps.len() as f64 - 1.0) * gap + 230.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="330" viewBox="0 0 {width:.0} 330" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
<text x="{x0}" y="30" font-size="16" font-weight="bold">The {cell} unrolled over T = {t} timesteps: one cell, the same weights at every step, H = {h} units inside</text>
<text x="{x0}" y="52" fill="#555">Batch B = {b}; each image is T = {t} rows of F = {f} pixels. num_units sets the width of every arrow between cells, not the number of cells.</text>
{stack}"##
    );
    let mut x = x0;
    for (i, label) in steps.iter().enumerate() {
        let cx = x + cell_w / 2.0;
        if label == "…" {
            let _ = writeln!(
                s,
                r##"<text x="{cx}" y="{:.0}" text-anchor="middle" font-size="28">…</text>"##,
                y0 + cell_h / 2.0 + 8.0
            );
        } else {
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y0}" width="{cell_w}" height="{cell_h}" rx="8" fill="#dbe9f6" stroke="#0072b2" stroke-width="1.5"/>
<text x="{cx}" y="{:.0}" text-anchor="middle" font-weight="bold">{cell} cell, t = {label}</text>
<text x="{cx}" y="{:.0}" text-anchor="middle">H = {h} units</text>
<line x1="{cx}" y1="{:.0}" x2="{cx}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{cx}" y="{:.0}" text-anchor="middle" fill="#555">x_{label} [{b}, {f}]</text>"##,
                y0 + 30.0,
                y0 + 50.0,
                y0 + cell_h + 60.0,
                y0 + cell_h + 4.0,
                y0 + cell_h + 78.0,
            );
        }
        if i + 1 < steps.len() {
            let (ax, bx) = (x + cell_w + 2.0, x + cell_w + gap - 2.0);
            let _ = writeln!(
                s,
                r##"<line x1="{ax}" y1="{:.0}" x2="{bx}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">{state} [{b}, {h}]</text>"##,
                y0 + cell_h / 2.0,
                y0 + cell_h / 2.0,
                (ax + bx) / 2.0,
                y0 + cell_h / 2.0 - 8.0
            );
        }
        x += cell_w + gap;
    }
    let hx = x - gap;
    let dx = hx + 70.0;
    let _ = writeln!(
        s,
        r##"<line x1="{:.0}" y1="{:.0}" x2="{dx:.0}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">{head_in} [{b}, {w}]</text>
<rect x="{dx:.0}" y="{y0}" width="120" height="{cell_h}" rx="8" fill="#fde0c5" stroke="#d55e00" stroke-width="1.5"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-weight="bold">Dense head</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle">{w} → {c}</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#555">logits [{b}, {c}]</text>
<text x="{x0}" y="312" fill="#555">Parameters: {recurrent_formula} = {} in the {} (shared by all {t} steps) + {head_formula} = {} in the head; total {}.</text>
</svg>"##,
        hx + 2.0,
        y0 + cell_h / 2.0,
        y0 + cell_h / 2.0,
        (hx + dx) / 2.0,
        y0 + cell_h / 2.0 - 8.0,
        dx + 60.0,
        y0 + 30.0,
        dx + 60.0,
        y0 + 50.0,
        dx + 60.0,
        y0 + cell_h + 25.0,
        thousands(recurrent),
        e.model,
        thousands(w * c + c),
        thousands(e.totals.params_pytorch),
    );
    if e.images {
        s
    } else {
        s.replace(
            &format!("each image is T = {t} rows of F = {f} pixels"),
            &format!("each sequence is T = {t} steps of F = {f} features"),
        )
        .replace("numbers per image", "numbers per sequence")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
