//! The shape walk of one batch: every step of a forward pass, from the input through the cell,
//! the layers and the readout to the head, with the shape it has for this architecture.
use super::ShapeStep;
use crate::config::{Cell, Pooling};
use crate::model::Arch;

/// The shape of variable `name` of the first cell (`weight_ih_l0`, ...), as `variables` lists it.
fn var_shape(vars: &[(String, Vec<i64>)], a: &Arch, name: &str) -> Vec<i64> {
    let full = format!("{}.{name}", a.cell.name());
    vars.iter()
        .find(|(n, _)| *n == full)
        .map(|(_, shape)| shape.clone())
        .expect("a variable of the architecture")
}

/// Every step of a forward pass, with its shape: the input and weights, one cell step, the
/// layers' outputs, then what the head reads and the head.
pub(super) fn shape_steps(a: &Arch, vars: &[(String, Vec<i64>)], b: i64, t: i64) -> Vec<ShapeStep> {
    let mut shapes = input_steps(a, vars, b, t);
    shapes.extend(cell_steps(a, vars, b));
    shapes.extend(layer_steps(a, vars, b, t));
    shapes.extend(readout_steps(a, b, t));
    shapes
}

/// The input batch, one timestep of it, and the first layer's weights.
fn input_steps(a: &Arch, vars: &[(String, Vec<i64>)], b: i64, t: i64) -> Vec<ShapeStep> {
    let stacked = match a.cell {
        Cell::Lstm => "input weights (all 4 gates stacked)",
        Cell::Gru => "input weights (reset, update and new gates stacked)",
        Cell::Rnn => "input weights",
    };
    vec![
        step(
            "input batch: B images, T rows each, F pixels per row",
            "x",
            vec![b, t, a.input],
        ),
        step(
            "one timestep: row t of every image",
            "x_t = x[:, t, :]",
            vec![b, a.input],
        ),
        step(stacked, "W_ih", var_shape(vars, a, "weight_ih_l0")),
        step(
            "recurrent weights",
            "W_hh",
            var_shape(vars, a, "weight_hh_l0"),
        ),
        step(
            "biases (two in PyTorch/tch)",
            "b_ih, b_hh",
            var_shape(vars, a, "bias_ih_l0"),
        ),
    ]
}

/// One step of the cell: its gates and states.
fn cell_steps(a: &Arch, vars: &[(String, Vec<i64>)], b: i64) -> Vec<ShapeStep> {
    let (h, g) = (a.hidden, a.cell.gates());
    let gate_rows = var_shape(vars, a, "weight_ih_l0")[0];
    let h_t = vec![b, h];
    match a.cell {
        Cell::Lstm => vec![
            step(
                "gate pre-activations",
                "x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh",
                vec![b, gate_rows],
            ),
            step(
                "split into input/forget/cell/output gates",
                "i, f, g, o",
                vec![b, gate_rows / g],
            ),
            step("cell state", "c_t = f * c_{t-1} + i * g", vec![b, h]),
            step("hidden state", "h_t = o * tanh(c_t)", h_t),
        ],
        Cell::Gru => vec![
            step(
                "input and recurrent pre-activations, kept apart",
                "x_t W_ih^T + b_ih, h_{t-1} W_hh^T + b_hh",
                vec![b, gate_rows],
            ),
            step(
                "reset and update gates, new state candidate",
                "r, z = sigmoid(..), n = tanh(x-part + r * h-part)",
                vec![b, gate_rows / g],
            ),
            step("hidden state", "h_t = (1 - z) * n + z * h_{t-1}", h_t),
        ],
        Cell::Rnn => vec![step(
            "hidden state",
            "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
            h_t,
        )],
    }
}

/// The first layer's outputs (both directions when bidirectional), then each layer above it.
fn layer_steps(a: &Arch, vars: &[(String, Vec<i64>)], b: i64, t: i64) -> Vec<ShapeStep> {
    let (h, w) = (a.hidden, a.width());
    let outputs = vec![b, t, w];
    let mut shapes = Vec::new();
    if a.bidirectional {
        shapes.push(step(
            "all forward hidden states",
            "[h_1 .. h_T]",
            vec![b, t, h],
        ));
        shapes.push(step(
            "backward direction: its own weights (_reverse), each sequence read from its last \
             real step to its first",
            "[h'_1 .. h'_T]",
            vec![b, t, h],
        ));
        shapes.push(step(
            "both directions side by side",
            "outputs = [h | h']",
            outputs.clone(),
        ));
    } else {
        shapes.push(step(
            "all hidden states",
            "outputs = [h_1 .. h_T]",
            outputs.clone(),
        ));
    }
    for l in 1..a.layers as usize {
        if a.dropout > 0.0 {
            shapes.push(step(
                &format!(
                    "dropout p = {} on layer {l}'s outputs (training only)",
                    a.dropout
                ),
                "dropout(outputs)",
                outputs.clone(),
            ));
        }
        shapes.push(step(
            &format!("layer {}: input weights read layer {l}'s outputs", l + 1),
            &format!("W_ih_l{l}"),
            var_shape(vars, a, &format!("weight_ih_l{l}")),
        ));
        shapes.push(step(
            &format!("layer {}'s outputs", l + 1),
            &format!("outputs_l{l}"),
            outputs.clone(),
        ));
    }
    shapes
}

/// What the head reads (the last state, the mean over the steps, the conv branch beside it)
/// and the head itself, with the highway when there is one.
fn readout_steps(a: &Arch, b: i64, t: i64) -> Vec<ShapeStep> {
    let (w, last) = (a.width(), vec![b, a.width()]);
    let mut shapes = Vec::new();
    if a.bidirectional {
        shapes.push(step(
            "what the head sees: forward state at the last step, backward state at the first",
            "[h_T | h'_1]",
            last,
        ));
    } else {
        shapes.push(step(
            if a.pooling == Pooling::Mean {
                "last hidden state"
            } else {
                "last hidden state (what the head sees)"
            },
            "h_T = outputs[:, T-1, :]",
            last,
        ));
    }
    let mut head_input = if a.bidirectional {
        "[h_T | h'_1]"
    } else {
        "h_T"
    }
    .to_string();
    if a.pooling == Pooling::Mean {
        shapes.push(step(
            "mean of the last layer's outputs over each sequence's real steps (what the head \
             reads instead of the last state)",
            "mean_t = mean(outputs[:, :length, :])",
            vec![b, w],
        ));
        head_input = "mean_t".into();
    }
    if a.conv > 0 {
        shapes.extend(conv_steps(a, b, t, &head_input));
        head_input = "r".into();
    }
    let logits = vec![b, a.classes];
    if a.highway > 0 {
        shapes.push(step(
            "the head, plus the linear highway from the whole window (T x F values, flattened) \
             straight to the outputs",
            &format!("logits = {head_input} W^T + b + flat(x) V^T + v"),
            logits,
        ));
    } else {
        shapes.push(step(
            "class scores",
            &format!("logits = {head_input} W^T + b"),
            logits,
        ));
    }
    shapes
}

/// The conv branch's blocks, its mean, and the readout it joins (`r`).
fn conv_steps(a: &Arch, b: i64, t: i64, head_input: &str) -> Vec<ShapeStep> {
    let mut shapes = Vec::new();
    for (i, (inputs, filters, kernel)) in a.conv_blocks().into_iter().enumerate() {
        let n = i + 1;
        shapes.push(step(
            &format!(
                "conv branch, block {n}: {filters} filters of {kernel} steps x {inputs} \
                 inputs over the same T steps (zero-padded to keep T), batch norm, ReLU"
            ),
            &format!(
                "z{n} = relu(bn{n}(conv{n}({})))",
                if n == 1 { "x" } else { "z" }
            ),
            vec![b, filters, t],
        ));
    }
    shapes.push(step(
        "conv branch: mean over each sequence's real steps",
        "z = mean(z3[:, :, :length])",
        vec![b, a.conv],
    ));
    shapes.push(step(
        "what the head reads: the recurrent readout and the conv branch side by side",
        &format!("r = [{head_input} | z]"),
        vec![b, a.head_input()],
    ));
    shapes
}

fn step(what: &str, expression: &str, shape: Vec<i64>) -> ShapeStep {
    ShapeStep {
        what: what.into(),
        expression: expression.into(),
        shape,
    }
}
