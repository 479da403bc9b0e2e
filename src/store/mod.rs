/*!
The on-disk layout of results: the contract between running and reporting.

```text
<out>/<sweep>/
  sweep.json              the sweep: name, grid, the run ids it plans, the command
  results.csv             one row per finished run (rewritten after every run)
  results.jsonl           the same rows as JSON
  <run-id>/config.json    the planned RunConfig, "auto" as asked (its hash is the run id)
  <run-id>/resolved.json  the config that trains, "auto" resolved on the data (`resolved`)
  <run-id>/metrics.jsonl  one EpochMetrics per line
  <run-id>/result.json    written last: its presence means the run is finished
  <run-id>/model.safetensors  final weights
  <run-id>/failed.json    a run that failed: its id, label and the reason
  <run-id>/normalization.json  series: how they were scaled, with the training statistics
  <run-id>/checkpoint.safetensors  while a run trains: its last finished epoch (weights,
                          Adam's moments and a state record; `train::checkpoint`)
  <run-id>/.lock          held (flock) by the process training the run
  tb/                     TensorBoard event files (`tensorboard`: whose folder is whose), unless
                          switched off
```
Every file is written atomically by one writer (`atomic`: a fresh temporary file in the same
folder, created exclusively with the umask's permissions, synced, then renamed over the target),
so a crash never leaves a half-written result, and a symlink planted where rowseq writes is
replaced, never followed. A record that exists but cannot be read, or that belongs to another
run, is an error naming the file: never mistaken for "not there". Every record is read through
`read_record`, which refuses anything but a regular file (a FIFO named `result.json` cannot
hang a reader). Records read back go through the checks a config goes through (`config.json`,
the configs in `result.json`), and the data shape and training statistics are checked too
(`result.json`'s `data`, `normalization.json`), so that an edited record is an error naming the
file and value, never a panic or NaN further on; a checkpoint must name this run's id and
config hash and lie within its epochs.

Links: `--out` itself is the user's and is followed as given (`experiments -> /scratch` is
fine), but no folder that rowseq creates or writes into below it (the sweep folder, run folders,
`tb/` and its run folders, the default `report/`) may be a symbolic link: every such folder is
made by `create_dir_nofollow`, and `check_folder` lets a command refuse one before it writes
anything. A write that fails for lack of space (ENOSPC, EDQUOT) is `disk_full`: it never marks a
run as failed, so the same command resumes it from its last checkpoint once space is freed.
*/
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::RunConfig;
use crate::error::UserError;
pub mod output;
mod resolved;
mod tables;
pub mod tensorboard;

pub use resolved::RESOLVED;
pub use tables::write_tables;

use crate::records::bench::{BenchRecord, KIND};
use crate::records::{
    CheckpointState, EpochMetrics, Failure, Normalization, RunResult, SweepRecord, TestPredictions,
    TestProbabilities,
};

pub const CONFIG: &str = "config.json";
pub const METRICS: &str = "metrics.jsonl";
pub const RESULT: &str = "result.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const FAILED: &str = "failed.json";
/// The checkpoint of the last finished epoch (`RunDir::checkpoint`), deleted once the result
/// is written.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The checkpoint's state record (`CheckpointState` as JSON bytes), beside its tensors.
const CHECKPOINT_STATE: &str = "state";
pub const NORMALIZATION: &str = "normalization.json";
/// Numeric tasks: the final model's test predictions beside the truth (and the baselines').
pub const TEST_PREDICTIONS: &str = "test_predictions.csv";
/// Classification: the kept model's test probabilities (`TestProbabilities`).
pub const TEST_PROBABILITIES: &str = "test_probabilities.csv";
pub const SWEEP: &str = "sweep.json";
pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_JSONL: &str = "results.jsonl";
/// TensorBoard's log folder inside a sweep folder.
pub const TENSORBOARD: &str = "tb";

/// The id of a run: the first 12 hex digits of the SHA-256 of its config's JSON.
pub fn run_id(cfg: &RunConfig) -> String {
    config_sha256(cfg)[..12].to_string()
}

/// The SHA-256 of a config's JSON, in hex: the run id is its first 12 digits.
pub fn config_sha256(cfg: &RunConfig) -> String {
    let json = serde_json::to_string(cfg).expect("config serialises");
    sha256_hex(json.as_bytes())
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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
            UserError::store(
                &path,
                format!(
                    "does not fit the model of this run's config on this data ({} features, {} \
                     classes): {}",
                    shape.0,
                    shape.1,
                    e.lines().next().unwrap_or("").trim()
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
        let path = self.path.join(RESULT);
        let text = match read_text(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(UserError::store(&path, format!("cannot read: {e}"))),
        };
        let result: RunResult = serde_json::from_str(&text)
            .map_err(|e| UserError::store(&path, format!("not a rowseq result record: {e}")))?;
        let id = self.id();
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
}

/// An I/O error at a path the user chose (`--out`, `--svg`, a folder rowseq creates there)
/// that the user must fix: the path is a file where a folder is expected, lies under a file,
/// is a folder where a file is expected, cannot be written, is too long, or its folder is
/// missing. Such an error is a `UserError` naming the path and what is expected; any other
/// (a full disk, a failing device) is returned as it is, with `context`, and exits 1.
pub fn path_error(
    path: &Path,
    e: std::io::Error,
    context: impl FnOnce() -> String,
) -> anyhow::Error {
    match user_path_problem(path, &e) {
        Some(user) => user.into(),
        None => anyhow::Error::new(e).context(context()),
    }
}

/// What `path_error` says for an error that is the user's to fix, if it is one.
fn user_path_problem(path: &Path, e: &std::io::Error) -> Option<UserError> {
    use std::io::ErrorKind as K;
    // tempfile wraps the OS error in its own (naming its temporary), leaving only its kind.
    let code = e.raw_os_error().or(match e.kind() {
        K::NotADirectory => Some(libc::ENOTDIR),
        K::AlreadyExists => Some(libc::EEXIST),
        K::IsADirectory => Some(libc::EISDIR),
        K::PermissionDenied => Some(libc::EACCES),
        K::ReadOnlyFilesystem => Some(libc::EROFS),
        K::InvalidFilename => Some(libc::ENAMETOOLONG),
        K::NotFound => Some(libc::ENOENT),
        _ => None,
    })?;
    let (at, message) = match code {
        libc::ENOTDIR | libc::EEXIST => {
            // The nearest part of the path that exists is not a folder.
            let blocker = path
                .ancestors()
                .find(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())?;
            let meta = std::fs::symlink_metadata(blocker).ok()?;
            if meta.is_dir() {
                return None;
            }
            let is = kind_of(&meta);
            let message = if blocker == path {
                format!(
                    "is {is}, not a folder: expected a folder, or a path where one can be created"
                )
            } else {
                format!(
                    "is {is}, not a folder, so '{}' cannot be created under it: expected a folder",
                    path.display()
                )
            };
            (blocker.to_path_buf(), message)
        }
        libc::EISDIR => (
            path.to_path_buf(),
            "is a folder: expected a file's path".to_string(),
        ),
        libc::EACCES | libc::EPERM => (
            path.to_path_buf(),
            "permission denied: expected a folder you can write to".to_string(),
        ),
        libc::EROFS => (
            path.to_path_buf(),
            "on a read-only file system: expected a writable folder".to_string(),
        ),
        libc::ENAMETOOLONG => {
            let longest = path.iter().map(|c| c.len()).max().unwrap_or(0);
            let message = if longest > 255 {
                format!("a name in the path is {longest} bytes long: expected names of at most 255 bytes")
            } else {
                format!(
                    "the path is {} bytes long: expected at most {} bytes",
                    path.as_os_str().len(),
                    libc::PATH_MAX - 1
                )
            };
            (path.to_path_buf(), message)
        }
        libc::ELOOP => (
            path.to_path_buf(),
            "too many levels of symlinks: expected a plain path".to_string(),
        ),
        libc::ENOENT => {
            let missing = path
                .ancestors()
                .skip(1)
                .take_while(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
                .last()?;
            (
                missing.to_path_buf(),
                format!(
                    "no such folder: expected an existing folder to hold '{}'",
                    path.display()
                ),
            )
        }
        _ => return None,
    };
    Some(UserError::store(at, message))
}

/// What is said of a folder, device or FIFO where a file is written (`atomic`, and the output
/// checks before it): "is a folder: expected a file's path", "is a FIFO: ...".
fn not_a_file(meta: &std::fs::Metadata) -> String {
    format!("is {}: expected a file's path", kind_of(meta))
}

/// "a file", "a folder", "a FIFO", ...: what a path is.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a file"
    } else if t.is_symlink() {
        "a symlink"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something other than a file or a folder"
    }
}

/// Creates the folder `path` (`what`, e.g. "sweep folder") and its parents; a path the user
/// must fix is a `UserError` (`path_error`).
pub fn create_dir(path: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| {
        path_error(path, e, || {
            format!("could not create {what} '{}'", path.display())
        })
    })
}

/// A config read back from a record (`prefix` names where in it: "" for `config.json`,
/// "resolved." in `result.json`): the checks of a config file, each value in its range and the
/// keys consistent, so that an edited record is an error naming it, never a panic further on.
fn check_config(path: &Path, cfg: &RunConfig, prefix: &str) -> Result<(), UserError> {
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

/// The one atomic writer: `fill` writes the temporary file, through its handle or (for tch,
/// which takes paths) its path: a fresh file beside `path`, created exclusively, with the
/// extension of `path`, since tch picks a format from it, and with the permissions a plain
/// `create` gets: 0666 less the umask. It is then synced (through the handle it was created
/// with, and its data written by path included) and renamed over `path`. A symlink at `path`
/// is replaced, not followed; a folder, device or FIFO at `path` is refused (a `UserError`).
pub fn atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File, &Path) -> Result<()>,
) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Only a file (or a link, replaced) is ever renamed over: never a device such as
    // /dev/null, a FIFO or a folder.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.is_file() && !meta.file_type().is_symlink() {
            return Err(UserError::store(path, not_a_file(&meta)).into());
        }
    }
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .suffix(&suffix)
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| {
            path_error(path, e, || {
                format!("could not create a temporary file in '{}'", dir.display())
            })
        })?;
    let tmp_path = tmp.path().to_path_buf();
    test_enospc(path).with_context(|| format!("could not write '{}'", path.display()))?;
    fill(tmp.as_file_mut(), &tmp_path)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.persist(path).map_err(|e| {
        path_error(path, e.error, || {
            format!("could not write '{}'", path.display())
        })
    })?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (`atomic`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic(path, |file, _| {
        use std::io::Write;
        file.write_all(bytes)?;
        Ok(())
    })
}

/// Removes the `.tmp.*` files (`atomic`'s temporaries) that a process killed mid-write left in
/// `dir`: called only under the lock that every writer of that folder's records holds (a run
/// folder's `.lock`, a sweep folder's `.tables.lock`, a report folder's one writer). Anything
/// else so named (a folder, say) is left alone.
pub fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if ours && entry.file_name().to_string_lossy().starts_with(".tmp.") {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// Reads a record (or any file rowseq reads back from a results folder): a regular file only.
/// It is opened without blocking and checked through its handle before a byte is read, so a
/// FIFO, a device or a folder in a record's place is an error ("not a regular file"), never a
/// hang. Errors keep their kind (`NotFound` means "not there").
pub fn read_record(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `read_record` as UTF-8 text.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_record(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Ok if `path` is a regular file (through links), for files that a library reads by path
/// (weights and checkpoints, read by tch): the same refusal as `read_record`'s.
pub fn regular(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path)?.is_file() {
        true => Ok(()),
        false => Err(not_regular()),
    }
}

fn not_regular() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a regular file (a FIFO, a device or a folder): expected a rowseq record; remove it",
    )
}

/// What a link or a file in the place of a folder that rowseq writes into is told.
const LINKED: &str =
    "is a symbolic link: rowseq does not write through links under --out; remove it";

/// Checks, before anything is written, that folder `path` (at or below `root`) could be made
/// or written into without following a link: every part of it below `root` that exists is a
/// real folder, not a symbolic link or a file. `root` (`--out`, or a sweep folder named on the
/// command line) is the user's and is followed as given. Parts that cannot be looked at (a
/// `root` that is a file, say) are left to the write itself to report.
pub fn check_folder(root: &Path, path: &Path) -> Result<(), UserError> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(());
    };
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(UserError::store(&at, LINKED)),
            Ok(m) if !m.is_dir() => {
                return Err(UserError::store(
                    &at,
                    "is not a folder: rowseq writes only into real folders under --out; \
                     remove it",
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Creates folder `path` (at or below `root`, which is created as given if missing, links
/// followed): every part below `root` is made or found a real folder, never a link
/// (`check_folder`). The one way rowseq makes a folder under `--out`.
pub fn create_dir_nofollow(root: &Path, path: &Path) -> Result<()> {
    create_dir(root, "folder")?;
    let rel = path
        .strip_prefix(root)
        .with_context(|| format!("'{}' is not inside '{}'", path.display(), root.display()))?;
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                check_folder(root, &at)?;
            }
            Err(e) => {
                return Err(path_error(&at, e, || {
                    format!("could not create folder '{}'", at.display())
                }))
            }
        }
    }
    Ok(())
}

/// The test hook of a full disk: when `ROWSEQ_TEST_ENOSPC` is `NAME` or `NAME@N`, the N-th
/// (default first) atomic write of a file named NAME in this process fails as a full disk does
/// (ENOSPC). Without the variable, nothing.
pub const TEST_ENOSPC: &str = "ROWSEQ_TEST_ENOSPC";

fn test_enospc(path: &Path) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let Some(spec) = std::env::var_os(TEST_ENOSPC) else {
        return Ok(());
    };
    let spec = spec.to_string_lossy();
    let (name, nth) = match spec.split_once('@') {
        Some((name, n)) => (name, n.parse().unwrap_or(1)),
        None => (&*spec, 1),
    };
    if path.file_name().is_some_and(|n| n == name)
        && WRITES.fetch_add(1, Ordering::Relaxed) + 1 == nth
    {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// Whether `e` is a write that failed for lack of space (ENOSPC, EDQUOT), anywhere in its
/// chain; libtorch's own writes (weights, checkpoints) say so only in their text.
pub fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
                return true;
            }
        }
        says_disk_full(&cause.to_string())
    })
}

/// Whether an error's text (a failure recorded by an earlier version, libtorch's message) says
/// that the disk was full.
pub fn says_disk_full(text: &str) -> bool {
    [
        "No space left on device",
        "Disk quota exceeded",
        "StorageFull",
        "QuotaExceeded",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// A sweep stopped by a full disk: one line, said once, by the process that the user started.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0}: the disk is full; free some space and run the same command again: unfinished runs \
     resume from their last checkpoints"
)]
pub struct DiskFull(pub String);

/// `e` as a `DiskFull` if it is a write that failed for lack of space, else as it is.
pub fn when_disk_full(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<DiskFull>().is_some() || !disk_full(&e) {
        return e;
    }
    DiskFull(format!("{e:#}").replace(['\n', '\r'], " ")).into()
}

/// Removes `path`; one that is already gone is fine.
pub fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("could not remove '{}'", path.display()))
        }
        _ => Ok(()),
    }
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Every finished run under a sweep folder, sorted by run order of `sweep.json` when there
/// is one, else by (num_units, seed, id).
pub fn load_results(sweep_dir: &Path) -> Result<Vec<RunResult>> {
    let entries = std::fs::read_dir(sweep_dir)
        .map_err(|e| UserError::store(sweep_dir, format!("cannot read results folder: {e}")))?;
    let mut results = Vec::new();
    for entry in entries.flatten() {
        if entry.path().is_dir() {
            match (RunDir { path: entry.path() }).result() {
                Ok(Some(r)) => results.push(r),
                Ok(None) => {}
                // Left out, and said: it is listed with the runs that have no result.
                Err(e) => eprintln!("warning: {e}; left out"),
            }
        }
    }
    let order = load_sweep(sweep_dir)
        .ok()
        .map(|s| s.runs)
        .unwrap_or_default();
    results.sort_by(|a, b| {
        let pos = |r: &RunResult| {
            order
                .iter()
                .position(|id| *id == r.run_id)
                .unwrap_or(usize::MAX)
        };
        (pos(a), a.config.num_units, a.config.seed, &a.run_id)
            .partial_cmp(&(pos(b), b.config.num_units, b.config.seed, &b.run_id))
            .unwrap()
    });
    Ok(results)
}

pub fn load_sweep(sweep_dir: &Path) -> Result<SweepRecord> {
    let path = sweep_dir.join(SWEEP);
    let text =
        read_text(&path).map_err(|e| UserError::store(&path, format!("cannot read: {e}")))?;
    Ok(serde_json::from_str(&text)
        .map_err(|e| UserError::store(&path, format!("not a rowseq sweep record: {e}")))?)
}

/// Reads a bench JSON, or says why it is not one.
pub fn load_bench(path: &Path) -> Result<BenchRecord> {
    let text = read_text(path).map_err(|e| UserError::store(path, format!("cannot read: {e}")))?;
    let record: BenchRecord = serde_json::from_str(&text)
        .map_err(|e| UserError::store(path, format!("not a rowseq bench JSON: {e}")))?;
    if record.kind != KIND {
        return Err(
            UserError::store(path, format!("kind {:?}: expected {KIND:?}", record.kind)).into(),
        );
    }
    if record.widths.is_empty() {
        return Err(UserError::store(path, "no widths measured").into());
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_stable_content_hashes() {
        let a = RunConfig::default();
        let b = RunConfig {
            num_units: 64,
            ..RunConfig::default()
        };
        assert_eq!(run_id(&a).len(), 12);
        assert_eq!(run_id(&a), run_id(&a.clone()));
        assert_ne!(run_id(&a), run_id(&b));
    }

    /// A checkpoint is a run's own only if it names the run and its config, within its epochs.
    #[test]
    fn checkpoints_of_other_runs_or_past_the_budget_are_refused() {
        let cfg = RunConfig {
            epochs: crate::config::Count::Fixed(2),
            ..RunConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path(), &run_id(&cfg));
        run.create().unwrap();
        let state = |epoch: usize, id: Option<String>, sha: Option<String>| CheckpointState {
            epoch,
            adam_step: epoch as i64,
            metrics: (1..=epoch)
                .map(|e| {
                    serde_json::from_value(serde_json::json!({
                        "epoch": e, "step": e, "lr": 0.1, "train_loss": 1.0, "val_loss": 1.0,
                        "train_seconds": 0.0, "eval_seconds": 0.0
                    }))
                    .unwrap()
                })
                .collect(),
            threads: Some(1),
            run_id: id,
            config_sha256: sha,
        };
        let (id, sha) = (Some(run_id(&cfg)), Some(config_sha256(&cfg)));
        let read = |s: CheckpointState| {
            run.save_checkpoint(
                &s,
                vec![(
                    "param/w".into(),
                    tch::Tensor::zeros([2], tch::kind::FLOAT_CPU),
                )],
            )
            .unwrap();
            run.checkpoint(&cfg)
                .map(|c| c.map(|c| c.state.epoch))
                .map_err(|e| e.to_string())
        };
        assert_eq!(read(state(2, id.clone(), sha.clone())), Ok(Some(2)));
        let e = read(state(3, id.clone(), sha.clone())).unwrap_err();
        assert!(e.contains("epoch 3 is past the run's 2 epochs"), "{e}");
        let e = read(state(1, None, None)).unwrap_err();
        assert!(
            e.contains("names no run (written by an older rowseq)"),
            "{e}"
        );
        let e = read(state(1, Some("0123456789ab".into()), sha)).unwrap_err();
        assert!(
            e.contains("the checkpoint of run 0123456789ab, not of this folder's run"),
            "{e}"
        );
        let e = read(state(1, id, Some("00".into()))).unwrap_err();
        assert!(e.contains("its config hash is not that of run"), "{e}");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
