/*!
Per-epoch checkpoints, so that a run stopped mid-way (kill -9, Ctrl-C, a lost node) resumes
from its last finished epoch and ends with exactly the metrics and weights of a run that was
never stopped (on CPU, same thread count).

One file, `<run>/checkpoint.safetensors`, written atomically after every epoch (temporary file,
fsync, rename) and deleted once `result.json` exists. It holds everything the rest of the run
depends on: the weights (`param/<name>`), Adam's moments (`exp_avg/<name>`,
`exp_avg_sq/<name>`), and a JSON record as a byte tensor (`state`): epoch, optimizer step
count, and the metrics of every epoch so far. No random state is needed: the shuffle of an
epoch is a pure function of (seed, epoch) (`train::shuffled`), and so are the dropout masks
(tch's global RNG is seeded at the start of every epoch with `train::epoch_seed`); otherwise
tch's RNG only initialises the weights, which the checkpoint overwrites.
*/
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::adam::Adam;
use super::events::{Event, Sink};
use crate::records::EpochMetrics;

pub const CHECKPOINT: &str = "checkpoint.safetensors";

/// The non-tensor part of a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct State {
    /// Epochs finished.
    pub epoch: usize,
    /// Optimizer updates applied (Adam's bias correction depends on it).
    pub adam_step: i64,
    pub metrics: Vec<EpochMetrics>,
    /// The run's thread count, which its resumption keeps (absent in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

/// A loaded checkpoint.
pub struct Checkpoint {
    pub state: State,
    tensors: Vec<(String, Tensor)>,
    /// Where it was read from (named in errors).
    path: PathBuf,
}

/// Writes the checkpoint of the epoch that just ended.
pub fn save(path: &Path, metrics: &[EpochMetrics], opt: &Adam, threads: usize) -> Result<()> {
    let state = State {
        epoch: metrics.last().map_or(0, |m| m.epoch),
        adam_step: opt.step,
        metrics: metrics.to_vec(),
        threads: Some(threads),
    };
    let json = serde_json::to_vec(&state)?;
    let mut tensors: Vec<(String, Tensor)> = vec![("state".into(), Tensor::from_slice(&json))];
    for (i, (name, p)) in opt.params().enumerate() {
        tensors.push((format!("param/{name}"), p.shallow_clone()));
        tensors.push((format!("exp_avg/{name}"), opt.exp_avg[i].shallow_clone()));
        tensors.push((
            format!("exp_avg_sq/{name}"),
            opt.exp_avg_sq[i].shallow_clone(),
        ));
    }
    crate::store::atomic(path, |_, tmp| {
        Tensor::write_safetensors(&tensors, tmp).map_err(anyhow::Error::from)
    })
}

/// The checkpoint at `path`, if there is one.
pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
    if !path.exists() {
        return Ok(None);
    }
    let bad = |what: String| anyhow::anyhow!("{}: {what}", path.display());
    // tch's own message for a damaged file is a multi-line C++ trace: keep its first line.
    let tensors = Tensor::read_safetensors(path).map_err(|e| {
        let e = e.to_string();
        bad(format!(
            "not a readable checkpoint ({})",
            e.lines().next().unwrap_or("").trim()
        ))
    })?;
    let state = tensors
        .iter()
        .find(|(n, _)| n == "state")
        .ok_or_else(|| bad("no state record".into()))?;
    if state.1.kind() != Kind::Uint8 || state.1.dim() != 1 {
        return Err(bad("its state record is not a byte string".into()));
    }
    let bytes = Vec::<u8>::try_from(&state.1).map_err(|e: tch::TchError| bad(e.to_string()))?;
    let state: State =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("bad state record: {e}")))?;
    Ok(Some(Checkpoint {
        state,
        tensors,
        path: path.to_path_buf(),
    }))
}

impl Checkpoint {
    /// Copies weights and optimizer state into a freshly built model and optimizer.
    pub fn restore(&self, vs: &nn::VarStore, opt: &mut Adam) -> Result<()> {
        let path = self.path.display();
        // Each tensor must be there with the shape and kind of what it restores: a mismatch
        // is an error naming the file, never a copy that reads past a buffer.
        let find = |key: String, like: &Tensor| -> Result<&Tensor> {
            let Some((_, t)) = self.tensors.iter().find(|(n, _)| *n == key) else {
                bail!("{path}: lacks '{key}': not a checkpoint of this run's model");
            };
            if t.size() != like.size() || t.kind() != like.kind() {
                bail!(
                    "{path}: '{key}' is {:?} {:?}, expected {:?} {:?}: not a checkpoint of \
                     this run's model",
                    t.kind(),
                    t.size(),
                    like.kind(),
                    like.size()
                );
            }
            Ok(t)
        };
        tch::no_grad(|| -> Result<()> {
            let names: Vec<String> = opt.params().map(|(n, _)| n.to_string()).collect();
            if self.state.adam_step < 0 || self.state.epoch != self.state.metrics.len() {
                bail!("{path}: its state record is inconsistent (epoch, steps, metrics)");
            }
            for (i, name) in names.iter().enumerate() {
                let mut p = opt.param(i);
                let src = find(format!("param/{name}"), &p)?;
                p.copy_(src);
                let src = find(format!("exp_avg/{name}"), &opt.exp_avg[i])?;
                opt.exp_avg[i].copy_(src);
                let src = find(format!("exp_avg_sq/{name}"), &opt.exp_avg_sq[i])?;
                opt.exp_avg_sq[i].copy_(src);
            }
            Ok(())
        })?;
        opt.step = self.state.adam_step;
        debug_assert_eq!(vs.trainable_variables().len(), opt.params().count());
        Ok(())
    }
}

/// Saves a checkpoint after every epoch.
pub struct CheckpointFile {
    pub path: PathBuf,
    /// The run's thread count, recorded so that its resumption keeps it.
    pub threads: usize,
}

impl Sink for CheckpointFile {
    fn event(&mut self, event: &Event) -> Result<()> {
        if let Event::Epoch {
            metrics, optimizer, ..
        } = event
        {
            save(&self.path, metrics, optimizer, self.threads)?;
        }
        Ok(())
    }
}
