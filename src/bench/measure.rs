//! rowseq's side of the bench: the batches of every step, one width's training and evaluation
//! timings, the sgemm peak, and the initial weights handed to the reference.
use super::*;

/// The example indices of every step, warm-up and timed: each epoch's shuffle
/// (`train::shuffled`, as a run draws it) cut into full batches, epoch after epoch.
pub(super) fn step_order(n: usize, s: &Settings) -> Vec<i64> {
    let per_epoch = n / s.batch_size * s.batch_size;
    let needed = (s.warmup + s.steps) * s.batch_size;
    let mut order = Vec::with_capacity(needed);
    let mut epoch = 1;
    while order.len() < needed {
        let take = per_epoch.min(needed - order.len());
        order.extend_from_slice(&train::shuffled(n, s.seed, epoch)[..take]);
        epoch += 1;
    }
    order
}

/// rowseq at one width: hands its initial weights to the reference, trains, evaluates.
pub(super) fn measure(
    h: i64,
    data: &Dataset,
    s: &Settings,
    device: Device,
    order: &Tensor,
    handover: &Path,
) -> Result<Timings> {
    let cfg = RunConfig {
        num_units: h,
        batch_size: crate::config::Count::Fixed(s.batch_size),
        seed: s.seed,
        lr: s.lr,
        clip_grad_norm: s.clip_grad_norm,
        ..RunConfig::default()
    };
    let (vs, model) = train::build(&cfg, data, device);
    write_weights(&vs, handover, h)?;
    let mut opt = Adam::new(&vs, cfg.lr);
    let train_split = data.train.to_device(device);
    let mut tally = Tally::new(device);
    let mut batches = train::epoch_batches(&train_split, order, s.batch_size);
    let mut step = || -> Result<f64> {
        let batch = batches.next().expect("step_order holds every step");
        train::train_step(
            &model,
            &mut opt,
            &batch,
            cfg.lr,
            cfg.clip_grad_norm,
            &train::augment::Augment::of(&cfg, data.patch),
            &mut tally,
        )
    };
    let mut losses = Vec::with_capacity(s.warmup + s.steps);
    for _ in 0..s.warmup {
        losses.push(step()?);
    }
    let mut chunk_ms = Vec::with_capacity(s.chunks);
    for c in 0..s.chunks {
        let n = s.steps * (c + 1) / s.chunks - s.steps * c / s.chunks;
        synchronize(device);
        let started = Instant::now();
        for _ in 0..n {
            losses.push(step()?);
        }
        synchronize(device);
        chunk_ms.push(1e3 * started.elapsed().as_secs_f64() / n as f64);
    }
    let test = data.test.narrow(0, s.eval_samples).to_device(device);
    let warm = test.narrow(0, (train::EVAL_BATCH as usize).min(s.eval_samples));
    train::evaluate(&model, &warm);
    let mut best = f64::INFINITY;
    for _ in 0..2 {
        synchronize(device);
        let started = Instant::now();
        train::evaluate(&model, &test);
        synchronize(device);
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(Timings {
        num_units: h,
        chunk_ms,
        eval_samples_per_s: s.eval_samples as f64 / best,
        loss_first: losses[0],
        loss_last: *losses.last().expect("at least one step"),
    })
}

pub(super) fn measured(t: &Timings, flops: f64, batch: usize, peak: f64) -> Measured {
    let ms = median(&t.chunk_ms);
    let gflops = flops / (ms * 1e-3) / 1e9;
    Measured {
        ms_per_batch: ms,
        ms_per_batch_best: t.chunk_ms.iter().copied().fold(f64::INFINITY, f64::min),
        chunk_ms: t.chunk_ms.clone(),
        samples_per_s: batch as f64 / (ms * 1e-3),
        eval_samples_per_s: t.eval_samples_per_s,
        gflops,
        percent_of_peak: 100.0 * gflops / peak,
        loss_first: t.loss_first,
        loss_last: t.loss_last,
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

pub(super) fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Best of several n x n float32 matmuls (n = 2048 on CPU, 8192 on CUDA), after a warm-up; on
/// one CPU thread, rowseq's own kernel too (its calls here run on one thread, so at more threads
/// they would not be a peak of the same machine share).
pub(super) fn sgemm_peak(device: Device, threads: usize) -> Sgemm {
    let n: i64 = if device.is_cuda() { 8192 } else { 2048 };
    tch::manual_seed(0);
    let a = Tensor::randn([n, n], (Kind::Float, device));
    let b = Tensor::randn([n, n], (Kind::Float, device));
    let mut best = f64::INFINITY;
    for i in 0..7 {
        synchronize(device);
        let started = Instant::now();
        let c = a.matmul(&b);
        synchronize(device);
        let t = started.elapsed().as_secs_f64();
        drop(c);
        if i >= 2 {
            best = best.min(t);
        }
    }
    Sgemm {
        n,
        best_seconds: best,
        gflops: 2.0 * (n as f64).powi(3) / best / 1e9,
        own_kernel_gflops: if device.is_cuda() || threads != 1 {
            None
        } else {
            own_kernel_peak()
        },
    }
}

/// Best GFLOP/s of rowseq's own matmul kernel (the LSTM's per-step products) on a cache-resident
/// [OWN_ROWS, OWN_INNER] x [OWN_INNER, OWN_COLS], in timed batches of calls after a warm-up;
/// None where this CPU does not run it.
fn own_kernel_peak() -> Option<f64> {
    use crate::records::bench::{OWN_COLS, OWN_INNER, OWN_ROWS};
    let a = Tensor::randn([OWN_ROWS, OWN_INNER], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([OWN_INNER, OWN_COLS], (Kind::Float, Device::Cpu));
    let calls = 20;
    let mut best = f64::INFINITY;
    for i in 0..9 {
        let started = Instant::now();
        for _ in 0..calls {
            drop(crate::ffi::own_matmul(&a, &b, false, 0, 0, 0).ok()??);
        }
        if i >= 2 {
            best = best.min(started.elapsed().as_secs_f64() / calls as f64);
        }
    }
    Some(2.0 * (OWN_ROWS * OWN_INNER * OWN_COLS) as f64 / best / 1e9)
}

/// `init-<H>.f32` (every variable's float32 values, little-endian, one after another) and
/// `init-<H>.json` (their names and shapes, in that order), for the reference to load.
pub(super) fn write_weights(vs: &tch::nn::VarStore, dir: &Path, h: i64) -> Result<()> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut bytes = Vec::new();
    let mut index = Vec::new();
    for (name, t) in &vars {
        let values = Vec::<f32>::try_from(t.to_device(Device::Cpu).flatten(0, -1))?;
        bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        index.push(serde_json::json!({ "name": name, "shape": t.size() }));
    }
    write_bytes(&dir.join(format!("init-{h}.f32")), &bytes)?;
    write_bytes(
        &dir.join(format!("init-{h}.json")),
        serde_json::to_string(&index)?.as_bytes(),
    )
}

pub(super) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("could not write '{}'", path.display()))
}
