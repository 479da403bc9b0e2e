//! What `explain --hidden` draws, as data: a heatmap's cells (`Grid`), one test example's
//! states and predictions per step (`Example`) and one run's column (`Panel`). `hidden` fills
//! them from the model; `hidden_figure` draws them.
use tch::{Kind, Tensor};

use crate::model::{Arch, SATURATED};

/// Values by row and column, row-major: a heatmap's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

impl Grid {
    /// A [T, K] tensor (one row per step) as K rows by T columns: time runs left to right.
    pub fn steps(t: &Tensor) -> Grid {
        let (steps, k) = (t.size()[0], t.size()[1]);
        let values = t
            .transpose(0, 1)
            .to_kind(Kind::Float)
            .contiguous()
            .view([-1]);
        Grid {
            rows: k as usize,
            cols: steps as usize,
            values: Vec::<f32>::try_from(&values).unwrap_or_default(),
        }
    }
    pub fn at(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.cols + col]
    }
    /// The largest |value| (0 for none).
    pub fn max_abs(&self) -> f32 {
        self.values.iter().fold(0f32, |m, v| m.max(v.abs()))
    }
    /// Values with |v| > SATURATED.
    pub fn saturated(&self) -> usize {
        let limit = SATURATED as f32;
        self.values.iter().filter(|v| v.abs() > limit).count()
    }
}

/// One test example through one run.
pub struct Example {
    /// Its index in the run's test set.
    pub index: usize,
    /// The input: F values (rows) by T steps.
    pub input: Grid,
    /// Image data: the picture itself (rows by columns of pixels).
    pub image: Option<Grid>,
    /// The last layer's h_t: D·H units by T steps.
    pub h: Grid,
    /// LSTM: its c_t, D·H units by T steps.
    pub c: Option<Grid>,
    /// The prediction after each step: class probabilities (classification) or the head's
    /// standardised values (numeric tasks), C rows by T steps.
    pub outputs: Grid,
    /// Classification: the true class.
    pub truth: Option<usize>,
}

impl Example {
    /// The class predicted after step `t` (0-based).
    pub fn predicted_at(&self, t: usize) -> usize {
        (0..self.outputs.rows)
            .max_by(|&a, &b| self.outputs.at(a, t).total_cmp(&self.outputs.at(b, t)))
            .unwrap_or(0)
    }
    /// The first step (1-based) from which every prediction is the final one.
    pub fn settled_from(&self) -> usize {
        let last = self.outputs.cols - 1;
        let final_class = self.predicted_at(last);
        (0..=last)
            .rev()
            .take_while(|&t| self.predicted_at(t) == final_class)
            .last()
            .map_or(last + 1, |t| t + 1)
    }
}

/// One run's column of the figure.
pub struct Panel {
    /// The run's folder name (its id).
    pub run: String,
    pub arch: Arch,
    /// Recorded test accuracy (classification).
    pub test_acc: Option<f64>,
    pub class_names: Vec<String>,
    pub examples: Vec<Example>,
}

impl Panel {
    /// The share of the drawn h_t values (every unit, step and example) with |h| > 0.95.
    pub fn saturated_share(&self) -> f64 {
        let (hot, all) = self.examples.iter().fold((0, 0), |(s, n), e| {
            (s + e.h.saturated(), n + e.h.values.len())
        });
        hot as f64 / all.max(1) as f64
    }
}
