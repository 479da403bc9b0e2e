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

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::adam::Adam;
use super::events::{EpochMetrics, Event, Sink};

pub const CHECKPOINT: &str = "checkpoint.safetensors";

/// The non-tensor part of a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct State {
    /// Epochs finished.
    pub epoch: usize,
    /// Optimizer updates applied (Adam's bias correction depends on it).
    pub adam_step: i64,
    pub metrics: Vec<EpochMetrics>,
}

/// A loaded checkpoint.
pub struct Checkpoint {
    pub state: State,
    tensors: Vec<(String, Tensor)>,
}

/// Writes the checkpoint of the epoch that just ended.
pub fn save(path: &Path, metrics: &[EpochMetrics], opt: &Adam) -> Result<()> {
    let state = State {
        epoch: metrics.last().map_or(0, |m| m.epoch),
        adam_step: opt.step,
        metrics: metrics.to_vec(),
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
    let dir = path.parent().unwrap_or(Path::new("."));
    // tch picks the format from the extension, so the temporary name keeps it.
    let tmp: PathBuf = dir.join(format!(".tmp.{}.{CHECKPOINT}", std::process::id()));
    Tensor::write_safetensors(&tensors, &tmp)
        .with_context(|| format!("could not write checkpoint '{}'", tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not sync '{}'", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("could not move checkpoint to '{}'", path.display()))
}

/// The checkpoint at `path`, if there is one.
pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
    if !path.exists() {
        return Ok(None);
    }
    let tensors = Tensor::read_safetensors(path)
        .with_context(|| format!("could not read checkpoint '{}'", path.display()))?;
    let state = tensors
        .iter()
        .find(|(n, _)| n == "state")
        .with_context(|| format!("{}: no state record", path.display()))?;
    let bytes: Vec<u8> = Vec::try_from(state.1.to_kind(Kind::Uint8))?;
    let state: State = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: bad state record", path.display()))?;
    Ok(Some(Checkpoint { state, tensors }))
}

impl Checkpoint {
    /// Copies weights and optimizer state into a freshly built model and optimizer.
    pub fn restore(&self, vs: &nn::VarStore, opt: &mut Adam) -> Result<()> {
        let find = |key: String| -> Result<&Tensor> {
            match self.tensors.iter().find(|(n, _)| *n == key) {
                Some((_, t)) => Ok(t),
                None => bail!("checkpoint lacks '{key}'"),
            }
        };
        tch::no_grad(|| -> Result<()> {
            let names: Vec<String> = opt.params().map(|(n, _)| n.to_string()).collect();
            for (i, name) in names.iter().enumerate() {
                let mut p = opt.param(i);
                p.copy_(find(format!("param/{name}"))?);
                opt.exp_avg[i].copy_(find(format!("exp_avg/{name}"))?);
                opt.exp_avg_sq[i].copy_(find(format!("exp_avg_sq/{name}"))?);
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
}

impl Sink for CheckpointFile {
    fn event(&mut self, event: &Event) -> Result<()> {
        if let Event::Epoch {
            metrics, optimizer, ..
        } = event
        {
            save(&self.path, metrics, optimizer)?;
        }
        Ok(())
    }
}
