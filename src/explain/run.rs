//! A trained run explained: its config's model with its saved weights, plus the hidden units'
//! measured activation statistics on its test data. Its records are read through the store's
//! checks (an edited one is an error naming it), and a changed training file is refused.
use super::*;
use crate::model::SATURATED;

/// Explains a trained run's folder: its config, plus activation statistics on its test data.
pub fn explain_run(run_dir: &Path, data_dir: Option<&Path>) -> Result<Explanation> {
    let run = Trained::load(run_dir, data_dir)?;
    let arch = run.model.arch;
    let e = explain(&arch, run.batch_size, run.data.seq_len);
    let mut e = e.with_data(run.source.summary()).with_task(&run.data);
    e.measured = Some(measure(&run.model, &run.data, run_dir, run.result.as_ref()));
    Ok(e)
}

/// A finished run loaded for explaining: its data as it read them, and its model with the
/// saved weights.
pub(super) struct Trained {
    pub source: Source,
    pub data: Dataset,
    pub model: SeqClassifier,
    pub result: Option<crate::records::RunResult>,
    /// The batch size it trained with, as recorded.
    pub batch_size: i64,
}

impl Trained {
    /// Loads a run's folder through the store's checks: an unfinished run, an edited record
    /// or a changed training file is an error naming it.
    pub fn load(run_dir: &Path, data_dir: Option<&Path>) -> Result<Trained> {
        let run = store::RunDir {
            path: run_dir.to_path_buf(),
        };
        let cfg = run.config()?;
        let weights = run_dir.join(store::WEIGHTS);
        match store::regular(&weights) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(UserError::store(
                    run_dir,
                    "no model.safetensors: the run has not finished",
                )
                .into())
            }
            Err(e) => return Err(UserError::store(&weights, format!("cannot read: {e}")).into()),
        }
        // An edited or foreign result is an error, and a changed training file too.
        let result = run.result()?;
        if let Some(result) = &result {
            crate::predict::train_file_unchanged(&run, &cfg, result)?;
        }
        let source = Source::load(&cfg, data_dir)?;
        let data = source.split(&cfg)?;
        // The config the run trained, as it recorded it (never resolved again).
        let cfg = run.resolved()?;
        let arch = Arch::of(&cfg, data.features, data.classes(), data.seq_len);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = SeqClassifier::new(&vs.root(), &arch);
        run.load_weights(&mut vs, (data.features, data.classes()))?;
        Ok(Trained {
            source,
            data,
            model,
            result,
            batch_size: cfg.batch_size.get() as i64,
        })
    }
}

/// Hidden-unit statistics of the last layer over the test set, real timesteps only.
pub(super) fn measure(
    model: &SeqClassifier,
    data: &Dataset,
    run_dir: &Path,
    result: Option<&crate::records::RunResult>,
) -> Measured {
    let numeric = data.task.is_numeric();
    let (recomputed_test_acc, recomputed_test_rmse) = match numeric {
        true => (
            f64::NAN,
            crate::train::score(model, &data.test, data, crate::data::Held::Test)
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
            saturated += (s.outputs().abs().gt(SATURATED).logical_and(&real))
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
