//! The explanation as plain text (what `rowseq explain` prints).
use super::words::sequence_words;
use super::*;

/// The explanation as plain text.
pub fn render_text(e: &Explanation) -> String {
    let mut s = String::new();
    header(&mut s, e);
    shape_walk(&mut s, e);
    parameters(&mut s, e);
    memory_and_compute(&mut s, e);
    doubling(&mut s, e);
    if let Some(m) = &e.measured {
        measured(&mut s, m, e.num_units);
    }
    if e.images {
        s
    } else {
        sequence_words(&s)
    }
}

/// The model and its sizes, the data and the windows.
fn header(s: &mut String, e: &Explanation) {
    let (b, t, f, h, c) = (e.batch, e.timesteps, e.features, e.num_units, e.classes);
    let a = e.arch();
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
}

/// Each step of one batch's forward pass with its shape.
fn shape_walk(s: &mut String, e: &Explanation) {
    let (t, a) = (e.timesteps, e.arch());
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
}

/// Each variable with its shape and count, then the totals by formula, PyTorch's and Keras'.
fn parameters(s: &mut String, e: &Explanation) {
    let a = e.arch();
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
}

/// Weights, state and activation memory, and FLOPs per image.
fn memory_and_compute(s: &mut String, e: &Explanation) {
    let (a, tt) = (e.arch(), &e.totals);
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
}

/// What doubling num_units costs, and the timesteps-vs-units paragraph.
fn doubling(s: &mut String, e: &Explanation) {
    let d = &e.doubling;
    let _ = writeln!(s, "\nDoubling num_units {} -> {}: parameters x{:.2}, FLOPs x{:.2}, state x{:.0} (the H x H recurrent matrix makes both grow ~4x for large H)", d.from_units, d.to_units, d.params_ratio, d.flops_ratio, d.state_ratio);
    let _ = writeln!(s, "\nTimesteps vs units: {}", e.timesteps_vs_units);
}

/// What was measured on a trained run's test data: its score and how saturated its units are.
fn measured(s: &mut String, m: &Measured, h: i64) {
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

pub(super) fn shape(s: &[i64]) -> String {
    format!(
        "[{}]",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub(super) fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", n / 1024.0 / 1024.0)
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}
