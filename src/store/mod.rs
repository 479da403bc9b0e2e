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
  <run-id>/candidates/<id>/  a run that chooses on validation (`records::Choice`): each
                          candidate, a run folder of its own; the kept one's weights and
                          records are copied up into <run-id>/ before its result.json
  <run-id>/refit/         a run that refits (`refit`): the kept candidate's config trained
                          on the training and validation series, a run folder of its own
                          whose weights and records are copied up instead
  tb/<label>/             TensorBoard event files, a folder per run and none in `tb/` itself
                          (the hparams experiment is in one run's folder; `tensorboard`: whose
                          folder is whose), unless switched off
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
use std::path::Path;

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::config::RunConfig;
use crate::error::UserError;
mod files;
pub mod output;
mod resolved;
mod rundir;
mod tables;
pub mod tensorboard;

use files::not_a_file;
pub use files::*;
pub use resolved::RESOLVED;
use rundir::check_config;
pub use rundir::{Checkpoint, RunDir};
pub use tables::write_tables;

use crate::records::bench::{BenchRecord, KIND};
use crate::records::{RunResult, SweepRecord};

pub const CONFIG: &str = "config.json";
pub const METRICS: &str = "metrics.jsonl";
pub const RESULT: &str = "result.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const FAILED: &str = "failed.json";
/// A run that successive halving stopped at a rung (`records::Stopped`).
pub const STOPPED: &str = "stopped.json";
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
/// The folder inside a run folder of the candidates it chose between on validation
/// (`records::Choice`), each a run folder of its own.
pub const CANDIDATES: &str = "candidates";
/// The folder of a run's refit on its training and validation series (`refit`).
pub const REFIT: &str = "refit";
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
    use crate::records::CheckpointState;

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
