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
    /// rowseq's own matmul kernel (`csrc/gemm.cpp`) on one of the LSTM's per-step shapes,
    /// [OWN_ROWS, OWN_INNER] x [OWN_INNER, OWN_COLS], best of several, on one thread; None where
    /// this CPU does not run it, on CUDA, at more than one thread, and in records made before it
    /// was measured. On CPUs whose BLAS
    /// leaves vector width unused (MKL runs AVX2 code on AMD's AVX-512 cores) it is the faster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_kernel_gflops: Option<f64>,
}

/// The shape of the own kernel's peak: a batch of 128 rows times a weight that stays in cache.
pub const OWN_ROWS: i64 = 128;
pub const OWN_INNER: i64 = 512;
pub const OWN_COLS: i64 = 512;

impl Sgemm {
    /// The peak each width's GFLOP/s is read against: the faster of the two matmuls.
    pub fn peak(&self) -> f64 {
        self.own_kernel_gflops
            .map_or(self.gflops, |own| own.max(self.gflops))
    }

    /// Where the own kernel, not the sgemm, set the peak: words for a report line naming its
    /// shape, with the sgemm's figure beside it. None where the sgemm is the peak, so that
    /// reports of such records read as they always have.
    pub fn own_kernel_peak(&self) -> Option<String> {
        let own = self.own_kernel_gflops.filter(|own| *own > self.gflops)?;
        Some(format!(
            "rowseq's matmul kernel, {OWN_ROWS}x{OWN_INNER} times {OWN_INNER}x{OWN_COLS}: \
             {own:.1} GFLOP/s; {n}x{n} sgemm: {:.1}",
            self.gflops,
            n = self.n
        ))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sgemm(own: Option<f64>) -> Sgemm {
        Sgemm {
            n: 2048,
            best_seconds: 0.2,
            gflops: 100.0,
            own_kernel_gflops: own,
        }
    }

    #[test]
    fn the_peak_is_the_faster_matmul_and_only_a_faster_own_kernel_is_named() {
        assert_eq!(sgemm(None).peak(), 100.0);
        assert_eq!(sgemm(None).own_kernel_peak(), None);
        assert_eq!(sgemm(Some(80.0)).peak(), 100.0);
        assert_eq!(sgemm(Some(80.0)).own_kernel_peak(), None);
        assert_eq!(sgemm(Some(250.0)).peak(), 250.0);
        assert_eq!(
            sgemm(Some(250.0)).own_kernel_peak().as_deref(),
            Some("rowseq's matmul kernel, 128x512 times 512x512: 250.0 GFLOP/s; 2048x2048 sgemm: 100.0")
        );
    }

    #[test]
    fn records_without_the_own_kernel_read_back_and_write_as_before() {
        let old = r#"{"n":2048,"best_seconds":0.2,"gflops":100.0}"#;
        let s: Sgemm = serde_json::from_str(old).unwrap();
        assert_eq!(s, sgemm(None));
        assert_eq!(serde_json::to_string(&s).unwrap(), old);
    }
}
