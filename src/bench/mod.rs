/*!
`rowseq bench`: training and evaluation throughput per width, rowseq against a reference
PyTorch script (`scripts/bench_torch.py`, bundled in the binary) run in the same invocation with
the same settings: the same model with the same initial weights (rowseq hands its initial
weights over), the same batches (rowseq hands over the shuffled indices), the same training
step, the same batch size, threads and device. It also measures the machine's float32 matmul
peak at the same thread count, best of several: libtorch's square sgemm, and on one CPU thread
rowseq's own kernel on a per-step shape where this CPU runs it (on AMD's AVX-512 cores MKL runs
AVX2 code, and the own kernel doubles it); the faster is the peak. It turns the FLOPs of a training
step, 3 x 2·B·T·4H(I+H) (the LSTM's matmuls forward, twice that backward), into GFLOP/s and a
share of that peak.

Timing: `warmup` untimed steps, then `steps` timed steps in `chunks` chunks, the device
synchronised at each chunk's edges; ms/batch is the median over chunks (the best chunk is kept
too). The whole comparison runs `rounds` times, rowseq then PyTorch each time, and the chunks
of all rounds are pooled, so the machine's drift during a run (other load, clocks, OpenMP
stragglers on a busy 2-core box) reaches both sides alike rather than one. Training runs `train::train_step` on batches from `train::epoch_batches`, the trainer's own
code. Evaluation is `train::evaluate` (no gradients, batches of `EVAL_BATCH`) over the first
`eval_samples` test images, best of two passes after a warm-up. Everything is saved as one JSON
file (`BenchRecord`), which `rowseq report FILE.json` plots. Benchmarks are never assertions in
tests: the numbers depend on the machine and on what else runs on it.
*/
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::config::RunConfig;
use crate::data::{self, Dataset, Source};
use crate::env::{self, DeviceChoice};
use crate::error::UserError;
use crate::model::{param_count, Arch};
use crate::records::bench::*;
use crate::report::bench::table;
use crate::store;
use crate::train::{self, Adam, Tally};

mod measure;
mod reference;

use measure::*;
pub use reference::default_python;
use reference::*;

/// The widths of `configs/units.toml` (a unit test keeps them equal).
pub const DEFAULT_UNITS: [i64; 6] = [8, 16, 32, 64, 128, 256];

/// What to measure (`rowseq bench`'s flags, as `cli::BenchArgs::request` resolves them).
pub struct Request {
    pub units: Vec<i64>,
    pub batch_size: usize,
    pub steps: usize,
    pub warmup: usize,
    pub rounds: usize,
    pub eval_samples: usize,
    pub seed: u64,
    pub device: DeviceChoice,
    /// Threads for both sides (None: all cores).
    pub threads: Option<usize>,
    /// The JSON file to write (None: `bench/bench-<UTC date-time>.json`).
    pub out: Option<PathBuf>,
    /// Replace an existing `out` that is not a bench record.
    pub force: bool,
    /// The Python that runs the PyTorch reference (None: rowseq only).
    pub reference: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

/// The FLOPs of one training step, 3 x 2·B·T·4H(I+H): the LSTM's input and recurrent matmuls
/// forward (2·B·T·4H(I+H)), and twice that backward. Gate nonlinearities and the head are left
/// out (they are O(B·T·H), small against the matmuls).
pub fn train_flops(batch: i64, seq_len: i64, input: i64, hidden: i64) -> f64 {
    let macs = Arch::lstm(input, hidden, 10).recurrent_macs();
    3.0 * 2.0 * (batch * seq_len * macs) as f64
}

/// The raw timings of one side at one width, before FLOPs are attached.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Timings {
    num_units: i64,
    chunk_ms: Vec<f64>,
    eval_samples_per_s: f64,
    loss_first: f64,
    loss_last: f64,
}

impl Timings {
    /// Adds another round's timings of the same width: its chunks join the pool, and the
    /// evaluation keeps the best pass.
    fn pool(&mut self, other: Timings) {
        self.chunk_ms.extend(other.chunk_ms);
        self.eval_samples_per_s = self.eval_samples_per_s.max(other.eval_samples_per_s);
    }
}

/// Checks the flags, measures, runs the reference, prints the table, writes the JSON.
pub fn run(args: &Request) -> Result<BenchRecord> {
    check_flags(args)?;
    let cfg = RunConfig {
        batch_size: crate::config::Count::Fixed(args.batch_size),
        seed: args.seed,
        ..RunConfig::default()
    };
    let data_dir = data::data_dir(&cfg.dataset, args.data_dir.as_deref())?;
    let files = data::idx::locate(&data_dir)?;
    let data = Source::load(&cfg, Some(&data_dir))?.split(&cfg)?;
    check_against_data(args, &data)?;
    let python = args.reference.clone();
    let torch_version = python.as_deref().map(check_python).transpose()?;
    let out = prepare_output(args)?;

    let device = env::resolve_device(args.device)?;
    let threads = env::set_threads(args.threads)?;
    let settings = settings(args, &cfg, &data);
    announce(&settings, device, threads, torch_version.as_deref());
    let handover = tempfile::Builder::new()
        .prefix("rowseq-bench.")
        .tempdir()
        .context("could not create a temporary folder for the reference")?;

    // The batches of every step: full batches of the trainer's epoch shuffles, in order.
    let order = step_order(data.train.len(), &settings);
    let order_path = handover.path().join("order.i64");
    write_bytes(
        &order_path,
        &order
            .iter()
            .flat_map(|i| i.to_le_bytes())
            .collect::<Vec<u8>>(),
    )?;
    let order = Tensor::from_slice(&order).to_device(device);

    let sgemm = sgemm_peak(device, threads);
    match sgemm.own_kernel_peak() {
        Some(own) => println!("peak: {own}"),
        None => println!(
            "sgemm peak: {:.1} GFLOP/s ({n}x{n} float32 matmul)",
            sgemm.gflops,
            n = sgemm.n
        ),
    }
    let sides = Sides {
        data: &data,
        settings: &settings,
        device,
        threads,
        order: &order,
        handover: handover.path(),
        python: python.as_deref(),
        files: &files,
        order_path: &order_path,
    };
    let (ours, reference) = sides.rounds()?;
    let widths = widths(&settings, &data, &ours, reference.as_ref(), sgemm.peak());
    let record = BenchRecord {
        kind: KIND.into(),
        settings,
        env: BenchEnv {
            run: env::environment(device, threads),
            cpu: env::cpu_model(),
            cudnn: device.is_cuda().then(tch::Cuda::cudnn_is_available),
        },
        sgemm,
        widths,
        reference: reference.map(|r| r.about),
    };
    store::write_json(&out, &record)?;
    println!();
    print!("{}", table(&record));
    warn_on_other_models(&record);
    println!("\nwritten to {}", out.display());
    Ok(record)
}

/// A flag's value that is not what it should be.
fn arg(flag: &str, value: String, expected: &str) -> UserError {
    UserError::Arg {
        flag: flag.into(),
        value,
        expected: expected.into(),
    }
}

/// The flags checked on their own, before any data is read.
fn check_flags(args: &Request) -> Result<()> {
    if let Some(&h) = args.units.iter().find(|&&h| !(1..=65536).contains(&h)) {
        return Err(arg("--units", h.to_string(), "widths from 1 to 65536").into());
    }
    if args.batch_size == 0 {
        return Err(arg("--batch-size", "0".into(), "at least 1").into());
    }
    if args.rounds == 0 {
        return Err(arg("--rounds", "0".into(), "at least 1").into());
    }
    if args.steps == 0 {
        return Err(arg("--steps", "0".into(), "at least 1 timed step").into());
    }
    Ok(())
}

/// The flags checked against the data: the evaluation's images, each width's memory and a full
/// training batch.
fn check_against_data(args: &Request, data: &Dataset) -> Result<()> {
    if args.eval_samples == 0 || args.eval_samples > data.test.len() {
        let expected = format!("from 1 to {} (the test images)", data.test.len());
        return Err(arg("--eval-samples", args.eval_samples.to_string(), &expected).into());
    }
    // A width that cannot be trained in this machine's memory is refused before any is measured.
    for &h in &args.units {
        let arch = Arch::lstm(data.features, h, data.classes());
        let device = env::resolve_device(args.device)?;
        train::check_memory(&arch, args.batch_size, data.seq_len, device)
            .map_err(|e| arg("--units", h.to_string(), &e))?;
    }
    let full_batches = data.train.len() / args.batch_size;
    if full_batches == 0 {
        let expected = format!("at most {} (the training images)", data.train.len());
        return Err(arg("--batch-size", args.batch_size.to_string(), &expected).into());
    }
    Ok(())
}

/// Where the record goes, checked before anything is measured (a path that cannot take it
/// fails now; an existing file is replaced only if it is a bench record, or with --force), with
/// its folder made.
fn prepare_output(args: &Request) -> Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(default_out);
    store::output::check_output(
        "--out",
        &out,
        None,
        &[],
        is_bench_record,
        "a bench record",
        args.force,
    )?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        store::create_dir(dir, "folder")?;
    }
    Ok(out)
}

/// What is measured, as the record keeps it.
fn settings(args: &Request, cfg: &RunConfig, data: &Dataset) -> Settings {
    Settings {
        units: args.units.clone(),
        batch_size: args.batch_size,
        warmup: args.warmup,
        steps: args.steps,
        chunks: args.steps.min(5),
        rounds: args.rounds,
        eval_samples: args.eval_samples,
        eval_batch: train::EVAL_BATCH,
        seed: args.seed,
        lr: cfg.lr,
        clip_grad_norm: cfg.clip_grad_norm,
        seq_len: data.seq_len,
        features: data.features,
        flops_formula: "3 x 2*B*T*4H(I+H)".into(),
    }
}

/// The line that says what is about to be measured, where, and against what.
fn announce(settings: &Settings, device: Device, threads: usize, torch_version: Option<&str>) {
    println!(
        "bench: units {:?}, batch {}, {} + {} steps, eval on {} test images, {} with {} threads{}",
        settings.units,
        settings.batch_size,
        settings.warmup,
        settings.steps,
        settings.eval_samples,
        env::device_name(device),
        threads,
        match torch_version {
            Some(v) => format!(", against PyTorch {v}"),
            None => ", no reference".into(),
        }
    );
}

/// Everything both sides of a round need: rowseq's measurements and PyTorch's reference.
struct Sides<'a> {
    data: &'a Dataset,
    settings: &'a Settings,
    device: Device,
    threads: usize,
    order: &'a Tensor,
    handover: &'a Path,
    python: Option<&'a Path>,
    files: &'a [PathBuf; 4],
    order_path: &'a Path,
}

impl Sides<'_> {
    /// Every round: each width measured in rowseq, then the reference, each pooled over the
    /// rounds. Rounds alternate the sides, so drift in the machine's speed reaches both alike.
    fn rounds(&self) -> Result<(Vec<Timings>, Option<ReferenceOutput>)> {
        let settings = self.settings;
        let mut ours: Vec<Timings> = Vec::new();
        let mut reference: Option<ReferenceOutput> = None;
        for round in 1..=settings.rounds {
            if settings.rounds > 1 {
                println!("round {round}/{}", settings.rounds);
            }
            for (i, &h) in settings.units.iter().enumerate() {
                let t = measure(
                    h,
                    self.data,
                    settings,
                    self.device,
                    self.order,
                    self.handover,
                )?;
                println!(
                    "rowseq  H={h:<4} {:8.2} ms/batch  eval {:9.0} samples/s",
                    median(&t.chunk_ms),
                    t.eval_samples_per_s
                );
                match ours.get_mut(i) {
                    Some(pooled) => pooled.pool(t),
                    None => ours.push(t),
                }
            }
            if let Some(python) = self.python {
                let r = run_reference(
                    python,
                    self.handover,
                    settings,
                    self.device,
                    self.threads,
                    self.files,
                    self.order_path,
                )?;
                match reference.as_mut() {
                    Some(pooled) => {
                        for (p, t) in pooled.widths.iter_mut().zip(r.widths) {
                            p.pool(t);
                        }
                    }
                    None => reference = Some(r),
                }
            }
        }
        Ok((ours, reference))
    }
}

/// Each width's record: its parameters, FLOPs per step, both sides' measurements and their
/// ratio.
fn widths(
    settings: &Settings,
    data: &Dataset,
    ours: &[Timings],
    reference: Option<&ReferenceOutput>,
    peak: f64,
) -> Vec<Width> {
    settings
        .units
        .iter()
        .zip(ours)
        .map(|(&h, t)| {
            let flops = train_flops(settings.batch_size as i64, data.seq_len, data.features, h);
            let rowseq = measured(t, flops, settings.batch_size, peak);
            let pytorch = reference.map(|r| {
                let t = r.widths.iter().find(|w| w.num_units == h).expect("checked");
                measured(t, flops, settings.batch_size, peak)
            });
            Width {
                num_units: h,
                params: param_count(&Arch::lstm(data.features, h, data.classes())),
                flops_per_step: flops,
                ratio: pytorch
                    .as_ref()
                    .map(|p| rowseq.ms_per_batch / p.ms_per_batch),
                rowseq,
                pytorch,
            }
        })
        .collect()
}

/// A warning for each width whose first-step loss differs between the sides: they did not
/// train the same model on the same batch.
fn warn_on_other_models(record: &BenchRecord) {
    for w in &record.widths {
        if let Some(p) = &w.pytorch {
            let d = (w.rowseq.loss_first - p.loss_first).abs();
            if d > 1e-4 * p.loss_first.abs().max(1.0) {
                eprintln!(
                    "warning: H={}: first-step loss {} (rowseq) vs {} (PyTorch): not the same model or batch?",
                    w.num_units, w.rowseq.loss_first, p.loss_first
                );
            }
        }
    }
}

/// Whether a file's first bytes are those of a bench record (`store::write_json` of a
/// `BenchRecord`, whose `kind` comes first).
fn is_bench_record(head: &[u8]) -> bool {
    String::from_utf8_lossy(head)
        .contains(&format!("\"kind\": \"{}\"", crate::records::bench::KIND))
}

/// `bench/bench-<UTC date and time>.json`.
fn default_out() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (y, m, d) = crate::data::dates::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    PathBuf::from(format!(
        "bench/bench-{y:04}{m:02}{d:02}-{:02}{:02}{:02}.json",
        t / 3600,
        t / 60 % 60,
        t % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_units_are_those_of_the_units_config() {
        let sweep = crate::config::SweepConfig::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/units.toml"),
        )
        .unwrap();
        let units: Vec<i64> = sweep.grid["num_units"]
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(units, DEFAULT_UNITS);
    }

    #[test]
    fn flops_follow_the_formula() {
        // H = 128, B = 128, T = I = 28: 3 x 2 x 128 x 28 x 512 x 156.
        assert_eq!(
            train_flops(128, 28, 28, 128),
            3.0 * 2.0 * 128.0 * 28.0 * 512.0 * 156.0
        );
        assert_eq!(train_flops(1, 1, 0, 1), 3.0 * 2.0 * 4.0);
    }

    #[test]
    fn step_order_is_full_batches_of_the_epoch_shuffles() {
        let s = Settings {
            units: vec![8],
            batch_size: 3,
            warmup: 1,
            steps: 4,
            chunks: 2,
            rounds: 1,
            eval_samples: 1,
            eval_batch: 2000,
            seed: 5,
            lr: 1e-3,
            clip_grad_norm: 1.0,
            seq_len: 28,
            features: 28,
            flops_formula: String::new(),
        };
        // 10 examples: 3 full batches (9 indices) per epoch, the 10th left out.
        let order = step_order(10, &s);
        assert_eq!(order.len(), 15);
        assert_eq!(order[..9], train::shuffled(10, 5, 1)[..9]);
        assert_eq!(order[9..], train::shuffled(10, 5, 2)[..6]);
    }

    fn record(with_reference: bool) -> BenchRecord {
        let m = |ms: f64| Measured {
            ms_per_batch: ms,
            ms_per_batch_best: ms,
            chunk_ms: vec![ms],
            samples_per_s: 128e3 / ms,
            eval_samples_per_s: 5000.0,
            gflops: 2.0,
            percent_of_peak: 4.0,
            loss_first: 2.3,
            loss_last: 2.2,
        };
        BenchRecord {
            kind: KIND.into(),
            settings: Settings {
                units: vec![8],
                batch_size: 128,
                warmup: 1,
                steps: 2,
                chunks: 2,
                rounds: 1,
                eval_samples: 500,
                eval_batch: 2000,
                seed: 0,
                lr: 3e-3,
                clip_grad_norm: 1.0,
                seq_len: 28,
                features: 28,
                flops_formula: "3 x 2*B*T*4H(I+H)".into(),
            },
            env: BenchEnv {
                run: crate::env::environment(Device::Cpu, 2),
                cpu: "cpu".into(),
                cudnn: None,
            },
            sgemm: Sgemm {
                n: 2048,
                best_seconds: 0.5,
                gflops: 50.0,
                own_kernel_gflops: None,
            },
            widths: vec![Width {
                num_units: 8,
                params: 1306,
                flops_per_step: train_flops(128, 28, 28, 8),
                rowseq: m(4.0),
                pytorch: with_reference.then(|| m(5.0)),
                ratio: with_reference.then_some(0.8),
            }],
            reference: with_reference.then(|| Reference {
                python: "3.11".into(),
                torch: "2.13.0".into(),
                threads: 2,
                interop_threads: 1,
                device: "cpu".into(),
            }),
        }
    }

    #[test]
    fn the_table_has_both_sides_or_dashes() {
        let both = table(&record(true));
        let row = both.lines().nth(2).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[..5], ["8", "1306", "4.00", "5.00", "0.80"], "{both}");
        assert!(both.contains("PyTorch 2.13.0"));
        let alone = table(&record(false));
        let cells: Vec<String> = alone
            .lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .map(String::from)
            .collect();
        assert_eq!(cells[3..5], ["-", "-"], "{alone}");
        assert!(alone.contains("no PyTorch reference"));
    }

    #[test]
    fn a_record_survives_json_and_load_checks_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let r = record(true);
        store::write_json(&path, &r).unwrap();
        assert_eq!(store::load_bench(&path).unwrap(), r);
        let other = BenchRecord {
            kind: "something".into(),
            ..r
        };
        store::write_json(&path, &other).unwrap();
        let e = store::load_bench(&path).unwrap_err().to_string();
        assert!(e.contains("kind \"something\""), "{e}");
    }

    #[test]
    fn medians_and_dates() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(crate::data::dates::civil_from_days(0), (1970, 1, 1));
        assert_eq!(crate::data::dates::civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(crate::data::dates::civil_from_days(11_016), (2000, 2, 29));
    }
}
