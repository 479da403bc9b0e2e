/*!
`rowseq explain`: what num_units is, shown on the model the program really builds.

For a configuration (or a trained run's folder) it builds the model, pushes one batch of zeros
through it and reads every shape and count off the tensors and the VarStore: the shape walk of
a batch, a parameter table in the PyTorch/tch (two biases) and Keras (one bias) conventions,
memory and FLOPs, what doubling num_units does, and how num_units relates to the timesteps.
For a trained run it adds measured activation statistics of the hidden units on test data.
`diagram_svg` draws the unrolled network with the shapes on its arrows.
*/
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::config::RunConfig;
use crate::data::{Dataset, Source, Summary};
use crate::error::UserError;
use crate::model::{counted_params, SeqClassifier};
use crate::store;
use crate::summary::thousands;
use crate::train::EVAL_BATCH;

/// Everything `explain` says, also its `--format json`.
#[derive(Serialize, Debug)]
pub struct Explanation {
    /// B, T, F, H, C.
    pub batch: i64,
    pub timesteps: i64,
    pub features: i64,
    pub num_units: i64,
    pub classes: i64,
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
    /// Counted in the VarStore (PyTorch/tch: b_ih and b_hh per layer).
    pub params_pytorch: i64,
    /// Keras/TensorFlow: one bias vector of 4H per layer.
    pub params_keras: i64,
    /// 4H(F+H) + 8H + CH + C, for comparison with the count.
    pub formula_pytorch: i64,
    /// 4H(F+H) + 4H + CH + C.
    pub formula_keras: i64,
    pub weight_bytes_fp32: i64,
    /// h and c for one batch: 2 x B x H floats.
    pub state_bytes_per_batch: i64,
    /// What training keeps for backward, about B x T x 7H floats (gates 4H, c, h, tanh c).
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

/// Activation statistics of a trained model's hidden units on the test set.
#[derive(Serialize, Debug)]
pub struct Measured {
    pub run_dir: String,
    pub test_acc: Option<f64>,
    pub test_images: i64,
    /// Share of all h_t values (every image, step and unit) with |h| > 0.95.
    pub saturated_share: f64,
    /// Units whose |h| > 0.95 in more than half of their values.
    pub mostly_saturated_units: i64,
    /// Units whose final state h_T barely moves across test images (std < 0.01).
    pub constant_units: i64,
    pub mean_abs_h_last: f64,
    /// Units by their share of saturated values: [0, 0.1), [0.1, 0.5), [0.5, 0.9), [0.9, 1].
    pub saturation_histogram: [i64; 4],
}

/// Shapes the model for (H, B) with the dataset's T, F and C.
pub fn explain(
    num_units: i64,
    batch: i64,
    timesteps: i64,
    features: i64,
    classes: i64,
) -> Explanation {
    let (b, t, f, h, c) = (batch, timesteps, features, num_units, classes);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), f, h, c);
    let x = Tensor::zeros([b, t, f], (Kind::Float, Device::Cpu));
    let (outputs, h_last, c_last, logits) = tch::no_grad(|| {
        let (o, hl, cl) = model.sequence(&x);
        let logits = model.forward(&x);
        (o, hl, cl, logits)
    });
    let var = |name: &str| vs.variables()[name].size();
    let (w_ih, w_hh, b_ih) = (
        var("lstm.weight_ih_l0"),
        var("lstm.weight_hh_l0"),
        var("lstm.bias_ih_l0"),
    );
    let x_t = x.select(1, 0).size();
    let gate_rows = w_ih[0];
    let shapes = vec![
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
        step("input weights (all 4 gates stacked)", "W_ih", w_ih.clone()),
        step("recurrent weights", "W_hh", w_hh.clone()),
        step("biases (two in PyTorch/tch)", "b_ih, b_hh", b_ih.clone()),
        step(
            "gate pre-activations",
            "x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh",
            vec![x_t[0], gate_rows],
        ),
        step(
            "split into input/forget/cell/output gates",
            "i, f, g, o",
            vec![x_t[0], gate_rows / 4],
        ),
        step("cell state", "c_t = f * c_{t-1} + i * g", c_last.size()),
        step("hidden state", "h_t = o * tanh(c_t)", h_last.size()),
        step(
            "all hidden states",
            "outputs = [h_1 .. h_T]",
            outputs.size(),
        ),
        step(
            "last hidden state (what the head sees)",
            "h_T = outputs[:, T-1, :]",
            h_last.size(),
        ),
        step("class scores", "logits = h_T W^T + b", logits.size()),
    ];
    let mut parameters: Vec<ParamRow> = vs
        .variables()
        .into_iter()
        .map(|(name, t)| ParamRow {
            count: t.numel() as i64,
            shape: t.size(),
            name,
        })
        .collect();
    parameters.sort_by(|a, b| a.name.cmp(&b.name));
    let counted = counted_params(&vs);
    let totals = totals(counted, b, t, f, h, c);
    let double = explain_totals(2 * h, b, t, f, c);
    Explanation {
        batch: b,
        timesteps: t,
        features: f,
        num_units: h,
        classes: c,
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
        timesteps_vs_units: format!(
            "num_units is not the number of timesteps. The LSTM is one cell applied T = {t} times \
             (once per row), with the same weights every time; each application has H = {h} units, \
             so h_t and c_t have {h} numbers per image at every step. T comes from the data, H is \
             your choice: changing H changes the parameters, not the number of steps."
        ),
        images: true,
        data: None,
        measured: None,
    }
}

/// Totals of a model built with H units (parameters counted in a real VarStore).
fn explain_totals(h: i64, b: i64, t: i64, f: i64, c: i64) -> Totals {
    let vs = nn::VarStore::new(Device::Cpu);
    let _ = SeqClassifier::new(&vs.root(), f, h, c);
    totals(counted_params(&vs), b, t, f, h, c)
}

fn totals(counted: i64, b: i64, t: i64, f: i64, h: i64, c: i64) -> Totals {
    let per_step = 2 * 4 * h * (f + h) + 2 * 4 * h + 9 * h;
    let inference = t * per_step + 2 * c * h + c;
    Totals {
        params_pytorch: counted,
        params_keras: counted - 4 * h,
        formula_pytorch: 4 * h * (f + h) + 8 * h + c * h + c,
        formula_keras: 4 * h * (f + h) + 4 * h + c * h + c,
        weight_bytes_fp32: 4 * counted,
        state_bytes_per_batch: 4 * 2 * b * h,
        activation_bytes_per_batch: 4 * b * t * 7 * h,
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
    let config_path = run_dir.join(store::CONFIG);
    let text = std::fs::read_to_string(&config_path).map_err(|_| {
        UserError::store(
            run_dir,
            "not a run folder: expected config.json (a folder <out>/<sweep>/<run-id>/)",
        )
    })?;
    let cfg: RunConfig = serde_json::from_str(&text)
        .map_err(|e| UserError::store(&config_path, format!("not a rowseq run config: {e}")))?;
    let weights = run_dir.join(store::WEIGHTS);
    if !weights.is_file() {
        return Err(
            UserError::store(run_dir, "no model.safetensors: the run has not finished").into(),
        );
    }
    let source = Source::load(&cfg, data_dir)?;
    let data = source.split(&cfg)?;
    let e = explain(
        cfg.num_units,
        cfg.batch_size as i64,
        data.seq_len,
        data.features,
        data.classes(),
    );
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), data.features, cfg.num_units, data.classes());
    vs.load(&weights)
        .with_context(|| format!("could not load weights '{}'", weights.display()))?;
    let result = (store::RunDir {
        path: run_dir.to_path_buf(),
    })
    .result();
    let mut e = e.with_data(source.summary());
    e.measured = Some(measure(&model, &data, run_dir, result.map(|r| r.test_acc)));
    Ok(e)
}

/// Hidden-unit statistics over the test set.
fn measure(
    model: &SeqClassifier,
    data: &Dataset,
    run_dir: &Path,
    test_acc: Option<f64>,
) -> Measured {
    let n = data.test.len() as i64;
    let h = model.hidden;
    tch::no_grad(|| {
        let mut saturated = Tensor::zeros([h], (Kind::Float, Device::Cpu));
        let mut lasts = Vec::new();
        let mut start = 0;
        while start < n {
            let len = EVAL_BATCH.min(n - start);
            let (outputs, h_last, _) = model.sequence(&data.test.x.narrow(0, start, len));
            // Real timesteps only: padding past a sequence's length is not part of it.
            let lengths = data.test.lengths.narrow(0, start, len);
            let real = Tensor::arange(data.seq_len, (Kind::Int64, Device::Cpu))
                .unsqueeze(0)
                .lt_tensor(&lengths.unsqueeze(1))
                .unsqueeze(2);
            saturated += (outputs.abs().gt(0.95).logical_and(&real))
                .to_kind(Kind::Float)
                .sum_dim_intlist([0i64, 1].as_slice(), false, Kind::Float);
            lasts.push(h_last);
            start += len;
        }
        let steps = data.test.lengths.sum(Kind::Int64).int64_value(&[]);
        let share = saturated / steps.max(1) as f64;
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
            test_acc,
            test_images: n,
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
    let mut s = String::new();
    let _ = writeln!(s, "LSTM with num_units H = {h}, batch B = {b}, timesteps T = {t}, features F = {f}, classes C = {c}");
    if let Some(d) = &e.data {
        let _ = writeln!(s, "Data: {}", d.line());
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
    let _ = writeln!(
        s,
        "  (repeated for t = 1..{t} with the same weights; h_0 = c_0 = 0)"
    );
    let _ = writeln!(s, "\nParameters (from the VarStore):");
    for p in &e.parameters {
        let _ = writeln!(
            s,
            "  {:<20} {:<12} {:>10}",
            p.name,
            shape(&p.shape),
            thousands(p.count)
        );
    }
    let tt = &e.totals;
    let _ = writeln!(
        s,
        "  {:<20} {:<12} {:>10}   = 4H(F+H) + 8H + CH + C = {}",
        "total (PyTorch/tch)",
        "",
        thousands(tt.params_pytorch),
        thousands(tt.formula_pytorch)
    );
    let _ = writeln!(
        s,
        "  {:<20} {:<12} {:>10}   = 4H(F+H) + 4H + CH + C = {} (one bias per gate)",
        "total (Keras/TF)",
        "",
        thousands(tt.params_keras),
        thousands(tt.formula_keras)
    );
    let _ = writeln!(s, "\nMemory and compute:");
    let _ = writeln!(
        s,
        "  weights, fp32:                       {}",
        bytes(tt.weight_bytes_fp32)
    );
    let _ = writeln!(
        s,
        "  h and c for one batch (2 x B x H):   {}",
        bytes(tt.state_bytes_per_batch)
    );
    let _ = writeln!(
        s,
        "  kept for backward per batch (~BT7H): {}",
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
        if let Some(acc) = m.test_acc {
            let _ = writeln!(s, "  test accuracy:                          {acc:.4}");
        }
        let _ = writeln!(
            s,
            "  share of h_t values with |h| > 0.95:     {:.3}",
            m.saturated_share
        );
        let _ = writeln!(
            s,
            "  units saturated more than half the time: {} of {h}",
            m.mostly_saturated_units
        );
        let _ = writeln!(
            s,
            "  units whose h_T never moves (std<0.01):  {} of {h}",
            m.constant_units
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
<text x="{x0}" y="30" font-size="16" font-weight="bold">The LSTM unrolled over T = {t} timesteps: one cell, the same weights at every step, H = {h} units inside</text>
<text x="{x0}" y="52" fill="#555">Batch B = {b}; each image is T = {t} rows of F = {f} pixels. num_units sets the width of every arrow between cells, not the number of cells.</text>
"##
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
<text x="{cx}" y="{:.0}" text-anchor="middle" font-weight="bold">LSTM cell, t = {label}</text>
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
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">h, c [{b}, {h}]</text>"##,
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
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">h_T [{b}, {h}]</text>
<rect x="{dx:.0}" y="{y0}" width="120" height="{cell_h}" rx="8" fill="#fde0c5" stroke="#d55e00" stroke-width="1.5"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-weight="bold">Dense head</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle">{h} → {c}</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#555">logits [{b}, {c}]</text>
<text x="{x0}" y="312" fill="#555">Parameters: 4H(F+H) + 8H = {} in the LSTM (shared by all {t} steps) + CH + C = {} in the head; total {}.</text>
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
        thousands(4 * h * (f + h) + 8 * h),
        thousands(c * h + c),
        thousands(e.totals.params_pytorch),
    );
    if e.images {
        s
    } else {
        s.replace(
            &format!("each image is T = {t} rows of F = {f} pixels"),
            &format!("each sequence is T = {t} steps of F = {f} features"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_counts_match_the_formulas() {
        for (h, b) in [(8, 32), (128, 128), (256, 64)] {
            let e = explain(h, b, 28, 28, 10);
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
        assert_eq!(explain(128, 128, 28, 28, 10).totals.params_pytorch, 82_186);
        assert_eq!(explain(128, 128, 28, 28, 10).totals.params_keras, 81_674);
    }

    #[test]
    fn doubling_grows_towards_four_times() {
        let small = explain(8, 1, 28, 28, 10).doubling;
        let large = explain(512, 1, 28, 28, 10).doubling;
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
        let svg = diagram_svg(&explain(128, 64, 28, 28, 10));
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
