//! The record of one `rowseq bench` invocation (its JSON file): what was run, where, and what
//! each side measured at each width. `store::load_bench` reads it back; the report plots it.
use serde::{Deserialize, Serialize};

use super::Environment;

/// What `kind` says in a bench JSON, so `rowseq report` can tell it from other files.
pub const KIND: &str = "rowseq-bench";

/// One bench invocation: what was run, where, and what it measured.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BenchRecord {
    /// Always `KIND`.
    pub kind: String,
    pub settings: Settings,
    pub env: BenchEnv,
    pub sgemm: Sgemm,
    pub widths: Vec<Width>,
    /// The PyTorch side; None with --no-reference.
    pub reference: Option<Reference>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Settings {
    pub units: Vec<i64>,
    pub batch_size: usize,
    pub warmup: usize,
    pub steps: usize,
    pub chunks: usize,
    /// Rounds of both sides (`chunks` timed chunks per width in each); older files have one.
    #[serde(default = "one_round")]
    pub rounds: usize,
    pub eval_samples: usize,
    pub eval_batch: i64,
    pub seed: u64,
    pub lr: f64,
    pub clip_grad_norm: f64,
    /// T and I of the data (MNIST: 28 rows of 28 pixels).
    pub seq_len: i64,
    pub features: i64,
    pub flops_formula: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BenchEnv {
    #[serde(flatten)]
    pub run: Environment,
    pub cpu: String,
    /// On CUDA: whether libtorch has cuDNN (the LSTM then runs on it).
    pub cudnn: Option<bool>,
}

/// The machine's float32 matmul peak as measured here.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sgemm {
    /// The matrices are n x n.
    pub n: i64,
    pub best_seconds: f64,
    pub gflops: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Width {
    pub num_units: i64,
    pub params: i64,
    pub flops_per_step: f64,
    pub rowseq: Measured,
    pub pytorch: Option<Measured>,
    /// rowseq ms/batch over PyTorch ms/batch (below 1: rowseq is faster).
    pub ratio: Option<f64>,
}

/// One implementation at one width.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Measured {
    /// Median over chunks of the mean step time.
    pub ms_per_batch: f64,
    /// The fastest chunk's mean step time.
    pub ms_per_batch_best: f64,
    /// Mean step time of every chunk, in order.
    pub chunk_ms: Vec<f64>,
    pub samples_per_s: f64,
    pub eval_samples_per_s: f64,
    pub gflops: f64,
    pub percent_of_peak: f64,
    /// The loss of the first step (same weights and batch on both sides: equal up to rounding)
    /// and of the last.
    pub loss_first: f64,
    pub loss_last: f64,
}

/// What the reference script reports about itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Reference {
    pub python: String,
    pub torch: String,
    pub threads: usize,
    pub interop_threads: usize,
    pub device: String,
}

fn one_round() -> usize {
    1
}
