//! One run's folder (`RunDir`): creating it, and reading and writing each of its records,
//! every one checked on the way back in (`check_config`, `check_result`, `check_normalization`).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::RunConfig;
use crate::error::UserError;
use crate::records::{
    CheckpointState, EpochMetrics, Failure, Normalization, RunResult, TestPredictions,
    TestProbabilities,
};

use super::files::{
    atomic, create_dir_nofollow, read_record, read_text, regular, write_atomic, write_json,
};
use super::{
    config_sha256, run_id, CANDIDATES, CHECKPOINT, CHECKPOINT_STATE, CONFIG, FAILED, METRICS,
    NORMALIZATION, RESULT, TEST_PREDICTIONS, TEST_PROBABILITIES, WEIGHTS,
};

/// A run's checkpoint as read from disk (`RunDir::checkpoint`): what `train::checkpoint`
/// restores a model and its optimizer from.
pub struct Checkpoint {
    pub state: CheckpointState,
    /// Every tensor but the state record, by name (`param/...`, `exp_avg/...`, ...).
    pub tensors: Vec<(String, tch::Tensor)>,
    /// Where it was read from (named in errors).
    pub path: PathBuf,
}

/// One run's folder.
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(sweep_dir: &Path, id: &str) -> Self {
        RunDir {
            path: sweep_dir.join(id),
        }
    }

    /// The run's config (`config.json`); an error naming the folder if it is not a run folder.
    pub fn config(&self) -> Result<RunConfig, UserError> {
        let path = self.path.join(CONFIG);
        let text = read_text(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => UserError::store(
                &self.path,
                "not a run folder: expected config.json (a folder <out>/<sweep>/<run-id>/)",
            ),
            _ => UserError::store(&path, format!("cannot read: {e}")),
        })?;
        let cfg: RunConfig = serde_json::from_str(&text)
            .map_err(|e| UserError::store(&path, format!("not a rowseq run config: {e}")))?;
        check_config(&path, &cfg, "")?;
        Ok(cfg)
    }

    /// Loads the run's weights into `vs`, built for `shape` (features, classes): a file that
    /// does not fit is one line naming it (libtorch's message has a C++ trace after its first).
    pub fn load_weights(
        &self,
        vs: &mut tch::nn::VarStore,
        shape: (i64, i64),
    ) -> Result<(), UserError> {
        let path = self.path.join(WEIGHTS);
        if let Err(e) = regular(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(UserError::store(&path, format!("cannot read: {e}")));
            }
            return Err(UserError::store(
                &path,
                "missing: the run has not finished (its weights are written at its end)",
            ));
        }
        vs.load(&path).map_err(|e| {
            let e = e.to_string();
            let first = e.lines().next().unwrap_or("").trim();
            // A file that is not safetensors at all (empty, cut short, overwritten) is damaged,
            // not a model of another shape: its parser's message, after the path, names the
            // header it lacks. A file that cannot be read is said as such.
            let parser = format!("safetensors error {}: ", path.display());
            if let Some(why) = first.strip_prefix(&parser) {
                if why.starts_with("IoError") {
                    return UserError::store(&path, format!("cannot read: {why}"));
                }
                return UserError::store(
                    &path,
                    format!(
                        "damaged: not a safetensors file ({why}); train the run again (remove \
                         its folder, then rerun its sweep)"
                    ),
                );
            }
            UserError::store(
                &path,
                format!(
                    "does not fit the model of this run's config on this data ({} features, {} \
                     classes): {first}",
                    shape.0, shape.1,
                ),
            )
        })
    }

    /// The run id this folder is named after.
    pub fn id(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The finished result: None if there is none yet; an error naming the file if it cannot
    /// be read or belongs to another run (its `run_id` is not this folder's name).
    pub fn result(&self) -> Result<Option<RunResult>, UserError> {
        self.result_of(&self.id())
    }

    /// `result`, for a folder named otherwise than its run (a run's `refit/`): the result must
    /// be run `id`'s.
    pub fn result_of(&self, id: &str) -> Result<Option<RunResult>, UserError> {
        let path = self.path.join(RESULT);
        let text = match read_text(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(UserError::store(&path, format!("cannot read: {e}"))),
        };
        let result: RunResult = serde_json::from_str(&text)
            .map_err(|e| UserError::store(&path, format!("not a rowseq result record: {e}")))?;
        if result.run_id != id {
            return Err(UserError::store(
                &path,
                format!(
                    "the result of run {} ({}), not of this folder's run {id}",
                    result.run_id, result.label
                ),
            ));
        }
        if run_id(&result.config) != id {
            return Err(UserError::store(
                &path,
                format!("its config does not hash to this folder's run id {id}"),
            ));
        }
        check_result(&path, &result)?;
        Ok(Some(result))
    }

    /// The finished result, or None when there is none or it is unreadable (say which).
    pub fn finished(&self) -> Option<RunResult> {
        self.result().ok().flatten()
    }

    /// Creates the run folder in its sweep folder; refuses one that is a symlink or a file
    /// (`create_dir_nofollow`: rowseq writes only into real folders of its sweep folder).
    pub fn create(&self) -> Result<()> {
        let sweep = self.path.parent().unwrap_or(Path::new("."));
        create_dir_nofollow(sweep, &self.path)
    }

    /// Why the run failed, if it did (`failed.json`); an unreadable record reads as a failure
    /// that says so.
    pub fn failure(&self) -> Option<String> {
        let path = self.path.join(FAILED);
        let text = match read_text(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(format!("{}: cannot read: {e}", path.display())),
            Ok(text) => text,
        };
        Some(match serde_json::from_str::<Failure>(&text) {
            Ok(f) => f.error,
            Err(e) => format!("{}: not a rowseq failure record: {e}", path.display()),
        })
    }

    /// Why the run counts as failed, if it does: its `failed.json`, or a result record that
    /// cannot be trusted (unreadable, or another run's).
    pub fn failed(&self) -> Option<String> {
        match self.result() {
            Err(e) => Some(e.to_string()),
            Ok(_) => self.failure(),
        }
    }

    /// The scaling the run's series had (`normalization.json`): what new data is scaled with.
    pub fn normalization(&self) -> Result<Normalization, UserError> {
        let path = self.path.join(NORMALIZATION);
        let text =
            read_text(&path).map_err(|e| UserError::store(&path, format!("cannot read: {e}")))?;
        let n: Normalization = serde_json::from_str(&text).map_err(|e| {
            UserError::store(&path, format!("not a rowseq normalization record: {e}"))
        })?;
        check_normalization(&path, &n)?;
        Ok(n)
    }

    pub fn write_normalization(&self, n: &Normalization) -> Result<()> {
        write_json(&self.path.join(NORMALIZATION), n)
    }

    pub fn write_test_probabilities(&self, p: &TestProbabilities) -> Result<()> {
        write_atomic(&self.path.join(TEST_PROBABILITIES), &p.to_csv()?)
    }

    /// The run's test probabilities (None when it has none: a numeric task, or a run from
    /// before they were recorded); a file that does not parse is an error naming it.
    pub fn test_probabilities(&self) -> Result<Option<TestProbabilities>, UserError> {
        let path = self.path.join(TEST_PROBABILITIES);
        match read_record(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(UserError::store(&path, format!("cannot read: {e}"))),
            Ok(bytes) => TestProbabilities::from_csv(&bytes)
                .map(Some)
                .map_err(|message| UserError::store(&path, message)),
        }
    }

    pub fn write_test_predictions(&self, p: &TestPredictions) -> Result<()> {
        write_atomic(&self.path.join(TEST_PREDICTIONS), &p.to_csv()?)
    }

    /// The run's test predictions (None when it has none: classification, or a run from
    /// before they were recorded); a file that does not parse is an error naming it.
    pub fn test_predictions(&self) -> Result<Option<TestPredictions>, UserError> {
        let path = self.path.join(TEST_PREDICTIONS);
        match read_record(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(UserError::Store {
                path: path.clone(),
                message: format!("cannot read: {e}"),
            }),
            Ok(bytes) => TestPredictions::from_csv(&bytes)
                .map(Some)
                .map_err(|message| UserError::Store {
                    path: path.clone(),
                    message,
                }),
        }
    }

    pub fn write_failure(&self, failure: &Failure) -> Result<()> {
        write_json(&self.path.join(FAILED), failure)
    }

    /// Records that successive halving stopped the run at a rung.
    pub fn write_stopped(&self, stopped: &crate::records::Stopped) -> Result<()> {
        write_json(&self.path.join(super::STOPPED), stopped)
    }

    /// Whether successive halving stopped the run (`stopped.json`), and where; a record that
    /// cannot be read counts as none (the rung is decided again from the metrics).
    pub fn stopped(&self) -> Option<crate::records::Stopped> {
        let text = read_text(&self.path.join(super::STOPPED)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write_config(&self, cfg: &RunConfig) -> Result<()> {
        write_json(&self.path.join(CONFIG), cfg)
    }

    pub fn write_metrics(&self, metrics: &[EpochMetrics]) -> Result<()> {
        let mut text = String::new();
        for m in metrics {
            text.push_str(&serde_json::to_string(m)?);
            text.push('\n');
        }
        write_atomic(&self.path.join(METRICS), text.as_bytes())
    }

    pub fn metrics(&self) -> Result<Vec<EpochMetrics>> {
        let path = self.path.join(METRICS);
        let text =
            read_text(&path).with_context(|| format!("could not read '{}'", path.display()))?;
        text.lines()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("{}:{}: not an epoch record", path.display(), i + 1))
            })
            .collect()
    }

    /// The checkpoint of the run's last finished epoch, if there is one: its state record and
    /// its named tensors. An unreadable file is an error naming it, and so is one that is not
    /// this run's: its state record must name this folder's run id and the SHA-256 of `cfg`
    /// (the run's config), and its epoch lie within the run's epochs (`train` checks an "auto"
    /// budget once resolved).
    pub fn checkpoint(&self, cfg: &RunConfig) -> Result<Option<Checkpoint>> {
        let path = self.path.join(CHECKPOINT);
        let bad = |what: String| anyhow::anyhow!("{}: {what}", path.display());
        match regular(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad(format!("cannot read: {e}"))),
            Ok(()) => {}
        }
        // tch's own message for a damaged file is a multi-line C++ trace: keep its first line.
        let tensors = tch::Tensor::read_safetensors(&path).map_err(|e| {
            let e = e.to_string();
            bad(format!(
                "not a readable checkpoint ({})",
                e.lines().next().unwrap_or("").trim()
            ))
        })?;
        let state = tensors
            .iter()
            .find(|(n, _)| n == CHECKPOINT_STATE)
            .ok_or_else(|| bad("no state record".into()))?;
        if state.1.kind() != tch::Kind::Uint8 || state.1.dim() != 1 {
            return Err(bad("its state record is not a byte string".into()));
        }
        let bytes = Vec::<u8>::try_from(&state.1).map_err(|e: tch::TchError| bad(e.to_string()))?;
        let state: CheckpointState =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("bad state record: {e}")))?;
        if state.adam_step < 0 || state.epoch != state.metrics.len() {
            return Err(bad(
                "its state record is inconsistent (epoch, steps, metrics)".into(),
            ));
        }
        let id = self.id();
        match &state.run_id {
            None => {
                return Err(bad(format!(
                    "names no run (written by an older rowseq): not shown to be run {id}'s"
                )))
            }
            Some(other) if *other != id => {
                return Err(bad(format!(
                    "the checkpoint of run {other}, not of this folder's run {id}"
                )))
            }
            Some(_) => {}
        }
        if state.config_sha256.as_deref() != Some(config_sha256(cfg).as_str()) {
            return Err(bad(format!(
                "its config hash is not that of run {id}'s config"
            )));
        }
        if let Some(epochs) = cfg.epochs.fixed().filter(|e| state.epoch > *e) {
            return Err(bad(format!(
                "epoch {} is past the run's {epochs} epochs",
                state.epoch
            )));
        }
        let tensors = tensors
            .into_iter()
            .filter(|(n, _)| n != CHECKPOINT_STATE)
            .collect();
        Ok(Some(Checkpoint {
            state,
            tensors,
            path,
        }))
    }

    /// Replaces the run's checkpoint: `state` and the named tensors, in one file written
    /// atomically.
    pub fn save_checkpoint(
        &self,
        state: &CheckpointState,
        tensors: Vec<(String, tch::Tensor)>,
    ) -> Result<()> {
        let json = serde_json::to_vec(state)?;
        let mut all = vec![(CHECKPOINT_STATE.to_string(), tch::Tensor::from_slice(&json))];
        all.extend(tensors);
        atomic(&self.path.join(CHECKPOINT), |_, tmp| {
            tch::Tensor::write_safetensors(&all, tmp).map_err(anyhow::Error::from)
        })
    }

    pub fn save_weights(&self, vs: &tch::nn::VarStore) -> Result<()> {
        atomic(&self.path.join(WEIGHTS), |_, tmp| {
            vs.save(tmp).map_err(anyhow::Error::from)
        })
    }

    pub fn write_result(&self, result: &RunResult) -> Result<()> {
        write_json(&self.path.join(RESULT), result)
    }

    /// The folder of the candidate run `id` (`records::Choice`), created with the folder of
    /// candidates if need be.
    pub fn candidate(&self, id: &str) -> Result<RunDir> {
        let folder = RunDir::new(&self.path, CANDIDATES);
        folder.create()?;
        let candidate = RunDir::new(&folder.path, id);
        candidate.create()?;
        Ok(candidate)
    }

    /// The folder of this run's refit (`<run>/refit/`), created if missing.
    pub fn refit(&self) -> Result<RunDir> {
        let refit = RunDir::new(&self.path, super::REFIT);
        refit.create()?;
        Ok(refit)
    }

    /// The thread count this run's candidates trained on (`records::Choice`): a finished
    /// one's, else one's checkpoint's; None before any candidate trained an epoch.
    pub fn candidates_threads(&self) -> Option<usize> {
        let folder = self.path.join(CANDIDATES);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        entries.iter().find_map(|path| {
            let run = RunDir { path: path.clone() };
            if let Ok(Some(result)) = run.result() {
                return Some(result.env.threads);
            }
            let config = run.config().ok()?;
            run.checkpoint(&config).ok()??.state.threads
        })
    }

    /// Takes the chosen candidate's model and records as this run's own: its weights,
    /// metrics, normalisation and test predictions or probabilities, each written
    /// atomically (the run's `result.json`, written after, says the run is finished).
    pub fn adopt(&self, chosen: &RunDir) -> Result<()> {
        for name in [
            WEIGHTS,
            METRICS,
            NORMALIZATION,
            TEST_PROBABILITIES,
            TEST_PREDICTIONS,
        ] {
            let from = chosen.path.join(name);
            if from.is_file() {
                let bytes = read_record(&from)
                    .with_context(|| format!("could not read '{}'", from.display()))?;
                write_atomic(&self.path.join(name), &bytes)?;
            }
        }
        Ok(())
    }
}

/// A config read back from a record (`prefix` names where in it: "" for `config.json`,
/// "resolved." in `result.json`): the checks of a config file, each value in its range and the
/// keys consistent, so that an edited record is an error naming it, never a panic further on.
pub(super) fn check_config(path: &Path, cfg: &RunConfig, prefix: &str) -> Result<(), UserError> {
    if let Err((key, value, expected)) = cfg.check_keys() {
        return Err(UserError::store(
            path,
            format!("{prefix}{key} = {value}: expected {expected}"),
        ));
    }
    if let Err((_, message)) = cfg.check_combination() {
        return Err(UserError::store(path, format!("{prefix}{message}")));
    }
    Ok(())
}

/// A result read back: its configs as a config file's, and the data shape that `predict` and
/// `explain` build a model and read new data with.
fn check_result(path: &Path, result: &RunResult) -> Result<(), UserError> {
    check_config(path, &result.config, "config.")?;
    if let Some(resolved) = &result.resolved {
        check_config(path, resolved.config(), "resolved.")?;
    }
    if let Some(data) = &result.data {
        let bad = |key: &str, value: String, expected: &str| {
            Err(UserError::store(
                path,
                format!("data.{key} = {value}: expected {expected}"),
            ))
        };
        if data.timesteps < 1 {
            return bad("timesteps", data.timesteps.to_string(), "at least 1");
        }
        if data.features < 1 {
            return bad("features", data.features.to_string(), "at least 1");
        }
        if let Some(p) = data.patch.filter(|p| !(1..=100_000).contains(p)) {
            return bad("patch", p.to_string(), crate::config::PATCH_EXPECTED);
        }
    }
    Ok(())
}

/// A normalization read back: statistics that new data can be scaled with (finite means,
/// finite standard deviations above 0, one of each per column).
fn check_normalization(path: &Path, n: &Normalization) -> Result<(), UserError> {
    let bad = |key: String, value: String, expected: &str| {
        Err(UserError::store(
            path,
            format!("{key} = {value}: expected {expected}"),
        ))
    };
    const MEAN: &str = "a finite mean (a training statistic)";
    const STD: &str = "a finite standard deviation above 0 (a training statistic)";
    if n.mean.len() != n.std.len() {
        return bad(
            "std".into(),
            format!("{} values", n.std.len()),
            &format!("one per value of mean ({})", n.mean.len()),
        );
    }
    if !n.columns.is_empty() && n.columns.len() != n.mean.len() {
        return bad(
            "columns".into(),
            format!("{} names", n.columns.len()),
            &format!("one per value of mean ({})", n.mean.len()),
        );
    }
    if let Some((i, m)) = n.mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
        return bad(format!("mean[{i}]"), m.to_string(), MEAN);
    }
    if let Some((i, s)) = n
        .std
        .iter()
        .enumerate()
        .find(|(_, s)| !(s.is_finite() && **s > 0.0))
    {
        return bad(format!("std[{i}]"), s.to_string(), STD);
    }
    if let Some(m) = n.target_mean.filter(|m| !m.is_finite()) {
        return bad("target_mean".into(), m.to_string(), MEAN);
    }
    if let Some(s) = n.target_std.filter(|s| !(s.is_finite() && *s > 0.0)) {
        return bad("target_std".into(), s.to_string(), STD);
    }
    Ok(())
}
