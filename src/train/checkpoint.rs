/*!
Per-epoch checkpoints, so that a run stopped mid-way (kill -9, Ctrl-C, a lost node) resumes
from its last finished epoch and ends with exactly the metrics and weights of a run that was
never stopped (on CPU, same thread count).

The store owns the file (`store::CHECKPOINT`, written atomically after every epoch and deleted
once `result.json` exists, with its `CheckpointState` record); this module says which tensors
it holds and restores them: the weights (`param/<name>`) and Adam's moments (`exp_avg/<name>`,
`exp_avg_sq/<name>`), the statistics that are not trained (`stat/<name>`: batch norm's running
mean and variance, where the model has them), with `keep = "best_val"` the weights of the best validation epoch so far
(`kept/<name>`, every variable), beside the epoch, the optimizer's step count and the metrics of every
epoch so far, and the run it belongs to (its id and config hash: the store refuses another
run's). No random state is needed: the shuffle of an epoch is a pure function of (seed,
epoch) (`train::shuffled`), and so are the dropout masks and input noise (tch's global RNG is
seeded at the start of every epoch with `train::epoch_seed`); otherwise tch's RNG only
initialises the weights, which the checkpoint overwrites.
*/
use anyhow::{bail, Result};
use tch::{nn, Tensor};

use super::adam::Adam;
use super::keep::Snapshot;
use crate::config::RunConfig;
use crate::records::{CheckpointState, EpochMetrics};
use crate::store::{Checkpoint, RunDir};

/// Writes the checkpoint of the epoch that just ended into `run`'s folder, naming the run (its
/// id and the SHA-256 of `cfg`, its config) so that no other run resumes from it.
pub fn save(
    run: &RunDir,
    cfg: &RunConfig,
    metrics: &[EpochMetrics],
    vs: &nn::VarStore,
    opt: &Adam,
    kept: Option<&Snapshot>,
    threads: usize,
) -> Result<()> {
    let state = CheckpointState {
        epoch: metrics.last().map_or(0, |m| m.epoch),
        adam_step: opt.step,
        metrics: metrics.to_vec(),
        threads: Some(threads),
        run_id: Some(run.id()),
        config_sha256: Some(crate::store::config_sha256(cfg)),
    };
    let mut tensors = Vec::new();
    for (i, (name, p)) in opt.params().enumerate() {
        tensors.push((format!("param/{name}"), p.shallow_clone()));
        tensors.push((format!("exp_avg/{name}"), opt.exp_avg[i].shallow_clone()));
        tensors.push((
            format!("exp_avg_sq/{name}"),
            opt.exp_avg_sq[i].shallow_clone(),
        ));
    }
    for (name, t) in statistics(vs) {
        tensors.push((format!("stat/{name}"), t));
    }
    for (name, t) in kept.map_or(&[][..], |k| &k.variables[..]) {
        tensors.push((format!("kept/{name}"), t.shallow_clone()));
    }
    run.save_checkpoint(&state, tensors)
}

/// Copies a checkpoint's weights and optimizer state into a freshly built model and optimizer.
pub fn restore(ckpt: &Checkpoint, vs: &nn::VarStore, opt: &mut Adam) -> Result<()> {
    let path = ckpt.path.display();
    // Each tensor must be there with the shape and kind of what it restores: a mismatch is an
    // error naming the file, never a copy that reads past a buffer.
    let find = |key: String, like: &Tensor| -> Result<&Tensor> {
        let Some((_, t)) = ckpt.tensors.iter().find(|(n, _)| *n == key) else {
            bail!("{path}: lacks '{key}': not a checkpoint of this run's model");
        };
        if t.size() != like.size() || t.kind() != like.kind() {
            bail!(
                "{path}: '{key}' is {:?} {:?}, expected {:?} {:?}: not a checkpoint of this \
                 run's model",
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
    tch::no_grad(|| -> Result<()> {
        for (name, mut t) in statistics(vs) {
            let src = find(format!("stat/{name}"), &t)?;
            t.copy_(src);
        }
        Ok(())
    })?;
    opt.step = ckpt.state.adam_step;
    debug_assert_eq!(vs.trainable_variables().len(), opt.params().count());
    Ok(())
}

/// The variables of `vs` that are not trained (batch norm's running statistics), by name.
fn statistics(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut stats: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| !t.requires_grad())
        .collect();
    stats.sort_by(|a, b| a.0.cmp(&b.0));
    stats
}

/// The weights of the epoch a `keep = "best_val"` run keeps, from its checkpoint: a copy of
/// every variable of `vs` as it was at the best validation epoch of `metrics`.
pub fn restore_kept(
    ckpt: &Checkpoint,
    vs: &nn::VarStore,
    metrics: &[EpochMetrics],
) -> Result<Snapshot> {
    let path = ckpt.path.display();
    let Some(best) = crate::records::best_val(metrics) else {
        bail!("{path}: holds no epoch: not a checkpoint of this run");
    };
    let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    let variables = variables
        .into_iter()
        .map(|(name, like)| {
            let key = format!("kept/{name}");
            match ckpt.tensors.iter().find(|(n, _)| *n == key) {
                Some((_, t)) if t.size() == like.size() && t.kind() == like.kind() => {
                    Ok((name, t.copy()))
                }
                Some(_) => bail!("{path}: '{key}' does not match the model: not a checkpoint of this run's model"),
                None => bail!("{path}: lacks '{key}': not a checkpoint of this run's model"),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Snapshot {
        epoch: best.epoch,
        variables,
    })
}
