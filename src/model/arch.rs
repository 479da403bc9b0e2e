/*!
The architecture of a model and its arithmetic, without tch: what a model is (`Arch`: cell,
width, stack, directions, inputs, classes), how many parameters it has in PyTorch's and Keras'
conventions (`param_count`, `keras_param_count`), those counts written as formulas in H
(`formula`), the multiply-adds per timestep that every cost estimate builds on
(`Arch::recurrent_macs`), and its name in words (`Arch::describe`). The network that holds
these parameters is `model::network`; `explain`, the report, `bench` and the sweep's ETA build
on this arithmetic.
*/

use crate::config::{Cell, Pooling, RunConfig};

impl Cell {
    /// g: gate blocks of H rows stacked in W_ih, W_hh and each bias.
    pub fn gates(self) -> i64 {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
            Cell::Rnn => 1,
        }
    }

    /// Bias vectors of gH per layer and direction in Keras: one for LSTM and SimpleRNN, two
    /// for GRU (`reset_after=True`, the default since TF 2), like PyTorch.
    pub fn keras_biases(self) -> i64 {
        match self {
            Cell::Gru => 2,
            Cell::Lstm | Cell::Rnn => 1,
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The architecture of a model: everything its parameters and forward pass depend on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arch {
    pub cell: Cell,
    /// F: features per timestep.
    pub input: i64,
    /// H: units per layer and direction (num_units).
    pub hidden: i64,
    /// L: stacked layers.
    pub layers: i64,
    pub bidirectional: bool,
    /// Dropout on the outputs of every layer but the last, while training.
    pub dropout: f64,
    /// C: classes.
    pub classes: i64,
    /// What the head reads of the last layer's outputs: h at the last real step, or their mean.
    pub pooling: Pooling,
    /// N: filters of the convolutional branch (LSTM-FCN; `CONV_KERNELS`), 0 for none.
    pub conv: i64,
    /// T·F: inputs of the linear highway from the whole window to the outputs (`highway`),
    /// 0 for none.
    pub highway: i64,
}

/// The convolutional branch's kernels and how many times N filters each has: N, 2N, N
/// filters of kernels 8, 5 and 3 (FCN's, Wang et al. 2017; LSTM-FCN's branch).
pub const CONV_KERNELS: [(i64, i64); 3] = [(8, 1), (5, 2), (3, 1)];

impl Arch {
    /// A one-layer, one-direction LSTM without dropout: the default model.
    pub fn lstm(input: i64, hidden: i64, classes: i64) -> Arch {
        Arch {
            cell: Cell::Lstm,
            input,
            hidden,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
            classes,
            pooling: Pooling::Last,
            conv: 0,
            highway: 0,
        }
    }

    /// The model of a run on data with `input` features and `classes` classes.
    pub fn of(cfg: &RunConfig, input: i64, classes: i64, timesteps: i64) -> Arch {
        Arch {
            cell: cfg.cell,
            input,
            hidden: cfg.num_units,
            layers: cfg.layers as i64,
            bidirectional: cfg.bidirectional,
            dropout: cfg.dropout,
            classes,
            pooling: cfg.pooling,
            conv: cfg.conv_filters as i64,
            highway: if cfg.highway { timesteps * input } else { 0 },
        }
    }

    /// D: 2 when bidirectional, else 1.
    pub fn directions(&self) -> i64 {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    /// D·H: the width of every layer's output, and of what the head reads.
    pub fn width(&self) -> i64 {
        self.directions() * self.hidden
    }

    /// What the head reads: the D·H of the recurrent layers, and the N of the convolutional
    /// branch's last block.
    pub fn head_input(&self) -> i64 {
        self.width() + self.conv
    }

    /// The convolutional branch's blocks: (inputs, filters, kernel) each; none without one.
    pub fn conv_blocks(&self) -> Vec<(i64, i64, i64)> {
        if self.conv == 0 {
            return Vec::new();
        }
        let mut inputs = self.input;
        CONV_KERNELS
            .iter()
            .map(|&(kernel, times)| {
                let block = (inputs, times * self.conv, kernel);
                inputs = block.1;
                block
            })
            .collect()
    }

    /// Multiply-adds of the convolutional branch per sequence and timestep: inputs·filters·kernel
    /// of each block.
    pub fn conv_macs(&self) -> i64 {
        self.conv_blocks().iter().map(|(i, o, k)| i * o * k).sum()
    }

    /// I_l: inputs of layer `l` (0-based): F for the first, D·H for the others.
    pub fn layer_input(&self, l: i64) -> i64 {
        if l == 0 {
            self.input
        } else {
            self.width()
        }
    }

    /// Multiply-adds of the recurrent matmuls per sequence and timestep, over every layer and
    /// direction: g·H·(I_l + H) each (x_t W_ih^T and h_{t-1} W_hh^T). The one cost formula that
    /// `explain`'s FLOPs, the sweep's ETA and `bench`'s GFLOP/s all build on.
    pub fn recurrent_macs(&self) -> i64 {
        let (g, h) = (self.cell.gates(), self.hidden);
        (0..self.layers)
            .map(|l| self.directions() * g * h * (self.layer_input(l) + h))
            .sum()
    }

    /// The same architecture with another width.
    pub fn with_hidden(&self, hidden: i64) -> Arch {
        Arch { hidden, ..*self }
    }

    /// `LSTM`, `2-layer GRU`, `bidirectional RNN`, ...: the cell and the stack, not the width.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if self.layers > 1 {
            s.push_str(&format!("{}-layer ", self.layers));
        }
        if self.bidirectional {
            s.push_str("bidirectional ");
        }
        s.push_str(self.cell.title());
        if self.pooling == Pooling::Mean {
            s.push_str(", mean-pooled");
        }
        if self.conv > 0 {
            s.push_str(&format!(" + {}-filter conv branch", self.conv));
        }
        s
    }

    /// Whether `other` has the same parameters for every width (cell, layers, directions,
    /// inputs and classes).
    pub fn same_shape(&self, other: &Arch) -> bool {
        let norm = |a: &Arch| Arch {
            hidden: 1,
            dropout: 0.0,
            ..*a
        };
        norm(self) == norm(other)
    }
}

/// Parameters in the PyTorch/tch convention (two bias vectors per layer and direction): per
/// layer l and direction, gH(I_l + H) + 2gH, with g = 4 (LSTM), 3 (GRU), 1 (RNN), I_0 = F and
/// I_l = D·H above; then the head, D·H·C + C. One-layer LSTM: 4H(F+H) + 8H + CH + C.
pub fn param_count(a: &Arch) -> i64 {
    recurrent_param_count(a)
        + conv_param_count(a)
        + a.head_input() * a.classes
        + a.classes
        + highway_param_count(a)
}

/// The linear highway's parameters: a weight per input value and output, and a bias per
/// output (none without a highway).
pub fn highway_param_count(a: &Arch) -> i64 {
    match a.highway {
        0 => 0,
        n => n * a.classes + a.classes,
    }
}

/// The convolutional branch's parameters: each block's weight (inputs·filters·kernel) and
/// bias, and its batch normalisation's scale and shift (2 per filter; its running mean and
/// variance are statistics, not parameters).
pub fn conv_param_count(a: &Arch) -> i64 {
    a.conv_blocks()
        .iter()
        .map(|(i, o, k)| i * o * k + o + 2 * o)
        .sum()
}

/// The recurrent layers' parameters alone (PyTorch/tch convention).
fn recurrent_param_count(a: &Arch) -> i64 {
    let (g, h) = (a.cell.gates(), a.hidden);
    (0..a.layers)
        .map(|l| a.directions() * (g * h * (a.layer_input(l) + h) + 2 * g * h))
        .sum()
}

/// The same network's parameters in the Keras convention: one bias vector of gH per layer and
/// direction for LSTM and SimpleRNN (gH fewer than PyTorch each), two for GRU (as PyTorch).
/// One-layer LSTM: 4H(F+H) + 4H + CH + C.
pub fn keras_param_count(a: &Arch) -> i64 {
    let per_bias = a.cell.gates() * a.hidden;
    param_count(a) - (2 - a.cell.keras_biases()) * per_bias * a.layers * a.directions()
}

/// The parameter count as a formula in H, as `param_count` (or `keras_param_count`) computes
/// it: `input` names the features (`F`, `I`), `classes` is their number or `None` for `C`.
/// One-layer LSTM: `4H(F+H) + 8H + CH + C`; two bidirectional GRU layers, 10 classes:
/// `2[3H(I+H) + 6H] + 2[3H(2H+H) + 6H] + 20H + 10`.
pub fn formula(a: &Arch, keras: bool, input: &str, classes: Option<i64>) -> String {
    let (recurrent, head) = formula_parts(a, keras, input, classes);
    // The branch's and the highway's parameters do not depend on H: numbers between the two.
    let fixed = conv_param_count(a) + highway_param_count(a);
    match fixed {
        0 => format!("{recurrent} + {head}"),
        n => format!("{recurrent} + {n} + {head}"),
    }
}

/// `formula` in two parts: the recurrent layers (`4H(F+H) + 8H`) and the head (`CH + C`;
/// with a convolutional branch of N filters, `CH + NC + C`). A branch's own parameters do not
/// depend on H: `formula` writes them as a number between the two.
pub fn formula_parts(a: &Arch, keras: bool, input: &str, classes: Option<i64>) -> (String, String) {
    let times_h = |k: i64| {
        if k == 1 {
            "H".to_string()
        } else {
            format!("{k}H")
        }
    };
    let (g, d) = (a.cell.gates(), a.directions());
    let biases = if keras { a.cell.keras_biases() } else { 2 };
    let term = |inputs: &str| {
        let t = format!("{}({inputs}+H) + {}", times_h(g), times_h(biases * g));
        if d == 1 {
            t
        } else {
            format!("{d}[{t}]")
        }
    };
    let mut parts = vec![term(input)];
    if a.layers > 1 {
        let above = term(&times_h(d));
        parts.push(if a.layers == 2 {
            above
        } else {
            format!("{}×{above}", a.layers - 1)
        });
    }
    let head = match (classes, a.conv) {
        (Some(c), 0) => format!("{}H + {c}", d * c),
        (Some(c), n) => format!("{}H + {}", d * c, c * (n + 1)),
        (None, 0) if d == 1 => "CH + C".to_string(),
        (None, 0) => format!("{d}CH + C"),
        (None, n) if d == 1 => format!("CH + {n}C + C"),
        (None, n) => format!("{d}CH + {n}C + C"),
    };
    (parts.join(" + "), head)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A model on row-wise MNIST (28 features, 10 classes): `layers` of `hidden` `cell`s.
    pub(in crate::model) fn arch(
        cell: Cell,
        hidden: i64,
        layers: i64,
        bidirectional: bool,
    ) -> Arch {
        Arch {
            cell,
            layers,
            bidirectional,
            ..Arch::lstm(28, hidden, 10)
        }
    }

    #[test]
    fn the_usual_counts_for_128_units_on_row_wise_mnist() {
        assert_eq!(param_count(&Arch::lstm(28, 128, 10)), 82_186);
        assert_eq!(param_count(&arch(Cell::Gru, 128, 1, false)), 61_962);
        assert_eq!(param_count(&arch(Cell::Rnn, 128, 1, false)), 21_514);
    }

    #[test]
    fn keras_counts_its_biases() {
        for h in [8, 128, 256] {
            let lstm = Arch::lstm(28, h, 10);
            assert_eq!(param_count(&lstm) - keras_param_count(&lstm), 4 * h);
            let rnn = arch(Cell::Rnn, h, 2, true);
            assert_eq!(param_count(&rnn) - keras_param_count(&rnn), h * 2 * 2);
            let gru = arch(Cell::Gru, h, 3, true);
            assert_eq!(param_count(&gru), keras_param_count(&gru));
        }
        // model.summary() of Keras' LSTM(128) / SimpleRNN(128) / GRU(128) on (28, 28) +
        // Dense(10).
        assert_eq!(keras_param_count(&Arch::lstm(28, 128, 10)), 81_674);
        assert_eq!(
            keras_param_count(&arch(Cell::Rnn, 128, 1, false)),
            128 * (28 + 128) + 128 + 1290
        );
        assert_eq!(
            keras_param_count(&arch(Cell::Gru, 128, 1, false)),
            3 * 128 * (28 + 128) + 6 * 128 + 1290
        );
    }

    #[test]
    fn formulas_read_like_the_counts() {
        let lstm = Arch::lstm(28, 128, 10);
        assert_eq!(formula(&lstm, false, "F", None), "4H(F+H) + 8H + CH + C");
        assert_eq!(
            formula(&lstm, true, "I", Some(10)),
            "4H(I+H) + 4H + 10H + 10"
        );
        let rnn = arch(Cell::Rnn, 8, 1, false);
        assert_eq!(formula(&rnn, true, "F", None), "H(F+H) + H + CH + C");
        let gru = arch(Cell::Gru, 8, 3, true);
        assert_eq!(
            formula(&gru, false, "I", Some(10)),
            "2[3H(I+H) + 6H] + 2×2[3H(2H+H) + 6H] + 20H + 10"
        );
        assert_eq!(gru.describe(), "3-layer bidirectional GRU");
        let lstm_fcn = Arch {
            pooling: Pooling::Mean,
            conv: 64,
            ..lstm
        };
        assert_eq!(
            formula(&lstm_fcn, false, "F", None),
            "4H(F+H) + 8H + 80640 + CH + 64C + C"
        );
        assert_eq!(
            lstm_fcn.describe(),
            "LSTM, mean-pooled + 64-filter conv branch"
        );
        assert_eq!(lstm.describe(), "LSTM");
        // Evaluated at H, each formula is the count.
        for (a, keras) in [
            (lstm, false),
            (lstm, true),
            (rnn, true),
            (gru, false),
            (lstm_fcn, false),
        ] {
            let h = a.hidden;
            let text = formula(&a, keras, &28.to_string(), Some(10));
            assert_eq!(
                eval_formula(&text, h),
                if keras {
                    keras_param_count(&a)
                } else {
                    param_count(&a)
                },
                "{text}"
            );
        }
    }

    /// Evaluates a `formula` with numbers for the input and classes at H = `h` (a tiny parser
    /// for exactly that grammar: sums of k×d[...] and products kH(aH+b)).
    fn eval_formula(text: &str, h: i64) -> i64 {
        fn coefficient(s: &str) -> i64 {
            s.parse().unwrap_or(1)
        }
        fn term(t: &str, h: i64) -> i64 {
            let t = t.trim();
            if let Some((k, rest)) = t.split_once('×') {
                return coefficient(k) * term(rest, h);
            }
            if let Some(inner) = t.strip_suffix(']') {
                let (k, body) = inner.split_once('[').unwrap();
                return coefficient(k) * sum(body, h);
            }
            if let Some((k, rest)) = t.split_once("H(") {
                let inside = rest.strip_suffix(')').unwrap();
                return coefficient(k) * h * sum(&inside.replace('+', " + "), h);
            }
            match t.strip_suffix('H') {
                Some(k) => coefficient(k) * h,
                None => t.parse().unwrap(),
            }
        }
        fn sum(s: &str, h: i64) -> i64 {
            // Split on " + " outside brackets.
            let (mut depth, mut start, mut total) = (0, 0, 0);
            for (i, c) in s.bytes().enumerate() {
                match c {
                    b'[' | b'(' => depth += 1,
                    b']' | b')' => depth -= 1,
                    b'+' if depth == 0 => {
                        total += term(&s[start..i], h);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            total + term(&s[start..], h)
        }
        sum(text, h)
    }
}
