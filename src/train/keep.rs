/*!
Which epoch a run keeps and when it stops early: small policies that read the recorded metrics
and return decisions, so that a resumed run decides exactly as an uninterrupted one.

- Early stopping (`patience` = N > 0): training stops before an epoch once the best validation
  score so far (`records::best_val`: the first epoch of the highest accuracy, or of the lowest
  RMSE for numeric tasks) is N or more epochs behind the last one.
- A set fitted (`stop_train_acc` = a > 0): training stops before an epoch once the last one's
  training accuracy reached a (the capacity experiment: a memorised set needs no more epochs).
- The kept epoch (`keep`): the last one trained, or that best validation epoch. Its weights are
  the run's `model.safetensors` (the loop holds a `Snapshot` of them, carried in the checkpoint)
  and its scores the result's headline; `Kept` says which it is and why.
*/
use tch::{nn, Tensor};

use crate::config::Keep;
use crate::records::{best_val, EpochMetrics, Kept};

/// When a run stops before its epoch budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stop {
    /// Epochs without a better validation score (0: never).
    pub patience: usize,
    /// A training accuracy that ends training once an epoch reaches it (0: never).
    pub fitted: f64,
}

impl Stop {
    /// The rules of a resolved config (`patience`, `stop_train_acc`).
    pub fn of(cfg: &crate::config::Resolved) -> Stop {
        Stop {
            patience: cfg.patience(),
            fitted: cfg.stop_train_acc,
        }
    }

    /// Whether the last epoch of `metrics` reached the training accuracy that ends training.
    fn fitted(&self, metrics: &[EpochMetrics]) -> bool {
        self.fitted > 0.0 && metrics.last().is_some_and(|m| m.train_acc >= self.fitted)
    }
}

/// Whether a run with these epochs behind it stops before training another.
pub fn should_stop(metrics: &[EpochMetrics], stop: Stop) -> bool {
    if stop.fitted(metrics) {
        return true;
    }
    match (stop.patience, metrics.last(), best_val(metrics)) {
        (0, _, _) | (_, None, _) | (_, _, None) => false,
        (p, Some(last), Some(best)) => last.epoch - best.epoch >= p,
    }
}

/// The epoch whose model a run keeps (None before any epoch).
pub fn kept(metrics: &[EpochMetrics], keep: Keep) -> Option<&EpochMetrics> {
    match keep {
        Keep::Last => metrics.last(),
        Keep::BestVal => best_val(metrics),
    }
}

/// The record of the epoch a finished run of `budget` epochs kept, with its reason.
pub fn record(metrics: &[EpochMetrics], keep: Keep, stop: Stop, budget: usize) -> Kept {
    let kept = kept(metrics, keep).expect("a finished run has an epoch");
    let trained = metrics.len();
    let stopped_early = trained < budget;
    let chosen = match keep {
        Keep::Last => format!("epoch {trained}, the last trained (keep = \"last\")"),
        Keep::BestVal => format!(
            "epoch {}, the best validation {} of {trained} trained (keep = \"best_val\")",
            kept.epoch,
            match kept.val_errors {
                Some(_) => "RMSE",
                None => "accuracy",
            },
        ),
    };
    let patience = stop.patience;
    let budget_note = match stopped_early {
        true if stop.fitted(metrics) => format!(
            "; training stopped early after {trained} of {budget} epochs, its training \
             accuracy {:.4} reaching stop_train_acc = {}",
            metrics[trained - 1].train_acc,
            stop.fitted
        ),
        true => format!(
            "; training stopped early after {trained} of {budget} epochs, {patience} without a \
             better validation score (patience = {patience})"
        ),
        false => format!("; the whole budget of {budget} epochs trained"),
    };
    Kept {
        epoch: kept.epoch,
        stopped_early,
        why: chosen + &budget_note,
    }
}

/// A copy of every variable of a model (sorted by name), taken at the epoch a run keeps.
pub struct Snapshot {
    pub epoch: usize,
    pub variables: Vec<(String, Tensor)>,
}

impl Snapshot {
    /// Copies `vs`'s variables as they are now, at the end of `epoch`.
    pub fn take(vs: &nn::VarStore, epoch: usize) -> Snapshot {
        let mut variables: Vec<(String, Tensor)> = tch::no_grad(|| {
            vs.variables()
                .into_iter()
                .map(|(name, t)| (name, t.detach().copy()))
                .collect()
        });
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        Snapshot { epoch, variables }
    }

    /// Writes the snapshot's values back into `vs`, whose variables it was taken of.
    pub fn restore(&self, vs: &nn::VarStore) {
        let mut live = vs.variables();
        tch::no_grad(|| {
            for (name, saved) in &self.variables {
                live.get_mut(name)
                    .expect("a snapshot of this model's variables")
                    .copy_(saved);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_once_the_best_is_patience_epochs_behind() {
        let m = crate::records::val_curve(&[0.5, 0.8, 0.7, 0.8, 0.6]);
        // The best is epoch 2 (the first 0.8; a tie is no improvement).
        let p = |patience| Stop {
            patience,
            fitted: 0.0,
        };
        assert!(!should_stop(&m[..4], p(3)));
        assert!(should_stop(&m, p(3)));
        assert!(!should_stop(&m, p(4)));
        assert!(!should_stop(&m, p(0)), "patience 0 never stops");
        assert!(!should_stop(&[], p(1)));
    }

    #[test]
    fn stops_once_an_epoch_fits_the_training_set() {
        let mut m = crate::records::val_curve(&[0.1, 0.1, 0.1]);
        for (e, acc) in m.iter_mut().zip([0.5, 0.99, 1.0]) {
            e.train_acc = acc;
        }
        let at = |fitted| Stop {
            patience: 0,
            fitted,
        };
        assert!(!should_stop(&m[..2], at(1.0)));
        assert!(should_stop(&m, at(1.0)));
        assert!(should_stop(&m[..2], at(0.99)));
        assert!(!should_stop(&m, at(0.0)), "0 never stops");
        let k = record(&m[..2], Keep::Last, at(0.99), 10);
        assert!(k.stopped_early, "{k:?}");
        assert!(k.why.contains("training accuracy 0.9900"), "{}", k.why);
    }

    #[test]
    fn keeps_the_last_or_the_best_validation_epoch_and_says_why() {
        let m = crate::records::val_curve(&[0.5, 0.8, 0.7, 0.8, 0.6]);
        assert_eq!(kept(&m, Keep::Last).map(|e| e.epoch), Some(5));
        assert_eq!(kept(&m, Keep::BestVal).map(|e| e.epoch), Some(2));
        let stop = |patience| Stop {
            patience,
            fitted: 0.0,
        };
        let k = record(&m, Keep::BestVal, stop(3), 10);
        assert_eq!((k.epoch, k.stopped_early), (2, true));
        assert!(k.why.contains("validation accuracy"), "{}", k.why);
        assert!(k.why.contains("after 5 of 10 epochs"), "{}", k.why);
        let k = record(&m, Keep::Last, stop(0), 5);
        assert_eq!((k.epoch, k.stopped_early), (5, false));
        assert!(k.why.contains("whole budget of 5"), "{}", k.why);
    }

    #[test]
    fn a_snapshot_restores_the_values_it_took() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let w = vs.root().var("w", &[3], nn::Init::Const(1.0));
        let snap = Snapshot::take(&vs, 4);
        let _ = tch::no_grad(|| w.shallow_clone().fill_(7.0));
        assert_eq!(Vec::<f32>::try_from(&w).unwrap(), vec![7.0; 3]);
        snap.restore(&vs);
        assert_eq!(Vec::<f32>::try_from(&w).unwrap(), vec![1.0; 3]);
        assert_eq!(snap.epoch, 4);
    }
}
