/*!
TensorBoard output, written as event files without TensorFlow: `tensorboard --logdir
<out>/<sweep>/tb` shows, per run, scalars, histograms, images and text, and the HParams
dashboard over the whole sweep (`experiment`). Which folder is whose, and clearing a run's, is
the store's (`store::tensorboard`).

This file is the sink of one run. At the start: the session start record, the parameter count
(`model/params`), the resolved config and the environment as text (`text`); every optimiser
step, `loss/train_step` and `train/lr` (their x axis counts steps); every epoch (at the epoch
as its step, so that epoch curves read in epochs), train/validation/test loss and accuracy,
for numeric tasks the baselines' test errors (constant: a line across the epochs beside the
model's), seconds per epoch and cumulated, and `time/tensorboard_seconds`, the wall time
spent in this sink so far (what TensorBoard output costs the run); at the first and last
epoch and about 50 between (`looks`), what the epoch's `Look` shows (`look`: histograms of
every variable and its last gradient, of the final hidden state h_T on a fixed test batch and
the share of saturated units, and, for image data, a grid of that batch's misclassified
digits). `Event::End` ends
the session with the run's status.
*/
pub mod experiment;
pub mod hparams;
pub mod image;
mod look;
pub mod proto;
pub mod record;
mod text;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;

pub use experiment::write_experiment;
pub use proto::Status;
use proto::{HParamsData, SessionEndInfo, Value};
use record::{unix_seconds, EventWriter};
use text::RunName;

use crate::config::RunConfig;
use crate::records::Environment;
use crate::records::EpochMetrics;
use crate::store::tensorboard::{claim_run_folder, run_folder};
use crate::train::events::{DataSummary, Looks, ProbeImages};
use crate::train::{Ended, Event, Look, Sink};

/// Test images whose hidden states and mistakes are shown at each look.
pub const PROBE_IMAGES: usize = 500;

/// At most about this many epochs of a run end with a look (histograms, hidden states,
/// mistakes), like Keras's `histogram_freq`: a look costs about as much as scoring the test
/// split, so a look at each of 200 epochs added a fifth to a series run's time.
pub const LOOKS_PER_RUN: usize = 50;

/// The looks of a run of `epochs`: its first and last epoch, and every `epochs / 50`-th
/// (rounded up) between, so every epoch of a run of at most 50.
pub fn looks(epochs: usize) -> Looks {
    Looks {
        probes: PROBE_IMAGES,
        every: epochs.div_ceil(LOOKS_PER_RUN).max(1),
    }
}

/// The TensorBoard sink of one run.
pub struct TensorBoard {
    dir: PathBuf,
    name: RunName,
    env: Environment,
    writer: Option<EventWriter>,
    /// Image data: the images that the loop's `Look` probes, as the start said (their
    /// misclassified ones are drawn).
    probe_images: Option<ProbeImages>,
    train_seconds: f64,
    /// Numeric tasks: the baselines' test errors, written with every epoch.
    baselines: Vec<Value>,
    /// Epochs already written to this run's folder since it (re)started.
    epochs_written: usize,
    /// Wall time spent in this sink so far: its cost to training.
    spent: Duration,
}

impl TensorBoard {
    /// A sink writing to `<tb_root>/<label>/`.
    pub fn new(
        tb_root: &Path,
        run_id: &str,
        label: &str,
        env: &Environment,
        command: &str,
    ) -> Self {
        TensorBoard {
            dir: run_folder(tb_root, label, run_id),
            name: RunName {
                label: label.into(),
                run_id: run_id.into(),
                command: command.into(),
            },
            env: env.clone(),
            writer: None,
            probe_images: None,
            train_seconds: 0.0,
            baselines: Vec::new(),
            epochs_written: 0,
            spent: Duration::ZERO,
        }
    }

    /// Records how the run ended (at `Event::End`) and flushes the file (a finished run's
    /// confusion matrix may follow it: `confusion`). Does nothing if the run never started.
    fn finish(&mut self, status: Status) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            let end = SessionEndInfo {
                status: status as i32,
                end_time_secs: unix_seconds(),
            };
            w.summary(0, vec![proto::hparams(HParamsData::SessionEndInfo(end))])?;
            w.flush()?;
        }
        if status != Status::Success {
            self.writer = None;
        }
        Ok(())
    }

    /// After the run has finished: the test confusion matrix of its kept model, a Markdown
    /// table in the Text dashboard (`test/confusion_matrix`, at the run's last epoch), the last
    /// record of the run's event file, which it then closes.
    pub fn confusion(&mut self, c: &crate::records::Confusion, epoch: i64) -> Result<()> {
        let Some(mut w) = self.writer.take() else {
            return Ok(());
        };
        let text = format!(
            "Test examples of each true class (rows) by the class the kept model predicted \
             (columns).\n\n{}",
            c.markdown()
        );
        w.summary(epoch, vec![proto::text("test/confusion_matrix", &text)])?;
        w.flush()
    }

    fn writer(&mut self) -> &mut EventWriter {
        self.writer
            .as_mut()
            .expect("the Start event opens the event file")
    }

    fn start(&mut self, cfg: &RunConfig, params: i64, data: &DataSummary) -> Result<()> {
        claim_run_folder(&self.dir, &self.name.run_id)?;
        self.writer = Some(EventWriter::create(&self.dir)?);
        self.probe_images = data.probe_images.clone();
        self.train_seconds = 0.0;
        self.epochs_written = 0;
        self.spent = Duration::ZERO;
        let start = hparams::session_start(cfg, unix_seconds());
        let values = vec![
            proto::hparams(HParamsData::SessionStartInfo(start)),
            proto::scalar("model/params", params as f64),
            proto::text("run/config", &text::config(&self.name, cfg, params, data)),
            proto::text("run/environment", &text::environment(&self.env)),
        ];
        // Numeric tasks: the baselines' test errors, constant over the run (HParams metrics
        // and a reference line for the error curves, written with every epoch).
        let b = &data.baselines;
        self.baselines.clear();
        for (name, e) in [
            ("const", b.constant),
            ("naive", b.naive),
            ("snaive", b.snaive),
            ("ets", b.ets),
        ] {
            if let Some(e) = e {
                let (rmse, mase) = (
                    format!("baseline/{name}_rmse_test"),
                    format!("baseline/{name}_mase_test"),
                );
                self.baselines.push(proto::scalar(&rmse, e.rmse));
                self.baselines
                    .extend(e.mase.map(|m| proto::scalar(&mase, m)));
            }
        }
        let w = self.writer();
        w.summary(0, values)?;
        w.flush()
    }

    fn epoch(&mut self, m: &EpochMetrics, look: Option<&Look>) -> Result<()> {
        let started = Instant::now();
        let mut values = self.epoch_scalars(m);
        if let Some(look) = look {
            values.extend(look::variable_histograms(look));
            if let Some(probe) = &look.probe {
                values.extend(look::probed(probe, self.probe_images.as_ref(), m.epoch)?);
            }
        }
        let spent = self.spent + started.elapsed();
        values.push(proto::scalar(
            "time/tensorboard_seconds",
            spent.as_secs_f64(),
        ));
        let w = self.writer();
        w.summary(m.epoch as i64, values)?;
        w.flush()
    }

    /// The per-epoch scalars, as in metrics.jsonl.
    fn epoch_scalars(&mut self, m: &EpochMetrics) -> Vec<Value> {
        self.train_seconds += m.train_seconds;
        self.epochs_written += 1;
        let mut values = vec![
            proto::scalar("loss/train", m.train_loss),
            proto::scalar("loss/val", m.val_loss),
        ];
        // An epoch that skipped the test set (`eval_test = "final"`) has no test point.
        if m.has_test() {
            values.push(proto::scalar("loss/test", m.test_loss));
        }
        match &m.val_errors {
            Some(val) => {
                values.extend(m.train_rmse.map(|v| proto::scalar("rmse/train", v)));
                let test = m.test_errors.as_ref().map(|t| ("test", t));
                for (split, e) in [("val", val)].into_iter().chain(test) {
                    values.push(proto::scalar(&format!("rmse/{split}"), e.rmse));
                    values.push(proto::scalar(&format!("mae/{split}"), e.mae));
                    values.extend(e.mase.map(|m| proto::scalar(&format!("mase/{split}"), m)));
                    values.extend(e.r2.map(|r2| proto::scalar(&format!("r2/{split}"), r2)));
                }
            }
            None => {
                values.extend([
                    proto::scalar("accuracy/train", m.train_acc),
                    proto::scalar("accuracy/val", m.val_acc),
                ]);
                if m.has_test() {
                    values.push(proto::scalar("accuracy/test", m.test_acc));
                }
            }
        }
        values.extend([
            proto::scalar("time/seconds_per_epoch", m.train_seconds),
            proto::scalar("time/eval_seconds", m.eval_seconds),
            proto::scalar("time/train_seconds", self.train_seconds),
            proto::scalar("train/epoch", m.epoch as f64),
            proto::scalar("train/step", m.step as f64),
        ]);
        values.extend(self.baselines.iter().cloned());
        values
    }

    /// A run resumed from a checkpoint starts with a cleared folder: write the epochs it had
    /// already finished (their scalars, from the restored metrics) before its next epoch.
    fn replay(&mut self, earlier: &[EpochMetrics]) -> Result<()> {
        for m in earlier.iter().skip(self.epochs_written) {
            let values = self.epoch_scalars(m);
            self.writer().summary(m.epoch as i64, values)?;
        }
        Ok(())
    }
}

impl Sink for TensorBoard {
    fn event(&mut self, event: &Event) -> Result<()> {
        let started = Instant::now();
        let done = match event {
            Event::Start {
                cfg, params, data, ..
            } => self.start(cfg, *params, data),
            Event::Batch { step, loss, lr, .. } => self.writer().summary(
                *step as i64,
                vec![
                    proto::scalar("loss/train_step", *loss),
                    proto::scalar("train/lr", *lr),
                ],
            ),
            Event::Epoch { metrics, look } => {
                let (m, earlier) = metrics.split_last().expect("at least one epoch");
                self.replay(earlier).and_then(|_| self.epoch(m, *look))
            }
            // A stopped run has no end yet: its session ends when it resumes and finishes.
            Event::End(Ended::Stopped) => Ok(()),
            Event::End(Ended::Finished) => self.finish(Status::Success),
            Event::End(Ended::Failed(_)) => self.finish(Status::Failure),
        };
        self.spent += started.elapsed();
        done
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_run_looks_at_its_first_and_last_epoch_and_about_fifty_between() {
        let at = |epochs: usize| -> Vec<usize> {
            let l = super::looks(epochs);
            (1..=epochs).filter(|&e| l.at(e, epochs)).collect()
        };
        assert_eq!(
            at(12),
            (1..=12).collect::<Vec<_>>(),
            "every epoch of a short run"
        );
        assert_eq!(at(50).len(), 50);
        let long = at(200);
        assert_eq!(long[..3], [1, 4, 8]);
        assert_eq!(long.last(), Some(&200));
        assert_eq!(long.len(), 51);
        let odd = at(203);
        assert_eq!(odd[..2], [1, 5]);
        assert_eq!(odd.last(), Some(&203), "the last epoch, off the stride");
        assert!(odd.len() <= 52);
    }

    use prost::Message;
    use tch::Device;

    use super::proto::{HParamsPluginData, Kind as ValueKind, What};
    use super::*;
    use crate::store::tensorboard::event_files;
    use crate::train::{Probe, Variable};

    /// Every event of the one event file in `dir`, checksums verified.
    fn read_events(dir: &Path) -> Vec<proto::Event> {
        let files = event_files(dir).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        let bytes = std::fs::read(&files[0]).unwrap();
        let mut events = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
            let data = &rest[12..12 + len];
            let crc = u32::from_le_bytes(rest[12 + len..16 + len].try_into().unwrap());
            assert_eq!(crc, record::masked_crc(data));
            events.push(proto::Event::decode(data).unwrap());
            rest = &rest[16 + len..];
        }
        events
    }

    /// A 4-unit run's config, a tiny dataset of images, and what the loop would show of its
    /// model: one variable and a probe that predicts class 1 for every test image.
    fn tiny_run() -> (RunConfig, DataSummary, Look) {
        let cfg = RunConfig {
            num_units: 4,
            ..RunConfig::default()
        };
        let data = DataSummary {
            name: "mnist".into(),
            train: 8,
            val: 4,
            test: 20,
            seq_len: 28,
            features: 28,
            class_names: (0..10).map(|i| i.to_string()).collect(),
            baselines: Default::default(),
            probe_images: Some(ProbeImages {
                shape: (28, 28),
                inputs: (0..20 * 28 * 28).map(|i| (i % 7) as f32 / 7.0).collect(),
                classes: (0..20).map(|i| i % 10).collect(),
            }),
        };
        let look = Look {
            variables: vec![Variable {
                name: "lstm.weight_ih_l0".into(),
                values: vec![0.5; 16 * 28],
                grad: Some(vec![0.01; 16 * 28]),
            }],
            probe: Some(Probe {
                last_hidden: (0..80).map(|i| i as f32 / 80.0).collect(),
                predicted: vec![1; 20],
            }),
        };
        (cfg, data, look)
    }

    /// Epoch `epoch` at step 2 x epoch, one second of training, the given test accuracy.
    fn epoch_metrics(epoch: usize, test_acc: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            step: 2 * epoch,
            lr: 0.1,
            train_loss: 2.0,
            train_acc: 0.25,
            val_loss: 2.1,
            val_acc: 0.5,
            test_loss: 2.2,
            test_acc,
            train_seconds: 1.0,
            eval_seconds: 0.5,
            train_rmse: None,
            val_errors: None,
            test_errors: None,
        }
    }

    /// Every scalar of a run folder as (tag, step, value).
    fn scalars(dir: &Path) -> Vec<(String, i64, f32)> {
        read_events(dir)
            .into_iter()
            .filter_map(|e| match e.what {
                Some(What::Summary(s)) => Some((e.step, s)),
                _ => None,
            })
            .flat_map(|(step, s)| {
                s.value.into_iter().filter_map(move |v| match v.kind {
                    Some(ValueKind::SimpleValue(x)) => Some((v.tag, step, x)),
                    _ => None,
                })
            })
            .collect()
    }

    #[test]
    fn a_resumed_run_writes_the_epochs_it_restored() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, data, look) = tiny_run();
        let env = crate::env::environment(Device::Cpu, 1);
        let mut sink = TensorBoard::new(dir.path(), "id", "units=4,seed=0", &env, "test");
        // Resumed after epoch 1: its first Epoch event carries both epochs.
        let metrics = vec![epoch_metrics(1, 0.5), epoch_metrics(2, 0.75)];
        sink.event(&Event::Start {
            cfg: &cfg,
            params: 42,
            batches_per_epoch: 2,
            data: &data,
        })
        .unwrap();
        sink.event(&Event::Epoch {
            metrics: &metrics,
            look: Some(&look),
        })
        .unwrap();
        let found = scalars(&dir.path().join("units=0004,seed=0"));
        let series = |tag: &str| -> Vec<(i64, f32)> {
            found
                .iter()
                .filter(|(t, _, _)| t == tag)
                .map(|(_, s, x)| (*s, *x))
                .collect()
        };
        // Epoch curves have the epoch as their step; the optimiser step is a scalar of its own.
        assert_eq!(series("accuracy/test"), vec![(1, 0.5), (2, 0.75)]);
        assert_eq!(series("time/train_seconds"), vec![(1, 1.0), (2, 2.0)]);
        assert_eq!(series("train/step"), vec![(1, 2.0), (2, 4.0)]);
    }

    /// A baseline is a line across the epochs at its test error, not a dot at the start.
    #[test]
    fn baselines_are_drawn_at_every_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, mut data, look) = tiny_run();
        let naive = crate::metrics::Errors {
            rmse: 2.0,
            mae: 1.5,
            r2: None,
            mase: Some(1.25),
        };
        data.baselines.naive = Some(naive);
        let env = crate::env::environment(Device::Cpu, 1);
        let mut sink = TensorBoard::new(dir.path(), "id", "run", &env, "test");
        sink.event(&Event::Start {
            cfg: &cfg,
            params: 42,
            batches_per_epoch: 2,
            data: &data,
        })
        .unwrap();
        for e in 1..=3 {
            let metrics: Vec<_> = (1..=e).map(|i| epoch_metrics(i, 0.5)).collect();
            sink.event(&Event::Epoch {
                metrics: &metrics,
                look: Some(&look),
            })
            .unwrap();
        }
        let found = scalars(&dir.path().join("run"));
        let line: Vec<(i64, f32)> = found
            .iter()
            .filter(|(t, _, _)| t == "baseline/naive_mase_test")
            .map(|(_, s, x)| (*s, *x))
            .collect();
        assert_eq!(line, vec![(1, 1.25), (2, 1.25), (3, 1.25)]);
    }

    /// An epoch that skipped the test set (`eval_test = "final"`) has no test point, not a NaN.
    #[test]
    fn an_epoch_without_test_scores_draws_no_test_point() {
        let dir = tempfile::tempdir().unwrap();
        let env = crate::env::environment(Device::Cpu, 1);
        let mut sink = TensorBoard::new(dir.path(), "id", "run", &env, "test");
        let skipped = EpochMetrics {
            test_loss: f64::NAN,
            ..epoch_metrics(1, f64::NAN)
        };
        let tags: Vec<String> = sink
            .epoch_scalars(&skipped)
            .into_iter()
            .map(|v| v.tag)
            .collect();
        assert!(tags.contains(&"accuracy/val".to_string()), "{tags:?}");
        assert!(!tags.iter().any(|t| t.ends_with("/test")), "{tags:?}");
        let tags: Vec<String> = sink
            .epoch_scalars(&epoch_metrics(2, 0.5))
            .into_iter()
            .map(|v| v.tag)
            .collect();
        assert!(tags.contains(&"accuracy/test".to_string()), "{tags:?}");
        assert!(tags.contains(&"loss/test".to_string()), "{tags:?}");
    }

    #[test]
    fn a_run_writes_its_session_and_a_failed_run_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, data, look) = tiny_run();
        let env = crate::env::environment(Device::Cpu, 1);
        let mut sink = TensorBoard::new(dir.path(), "id", "units=4,seed=0", &env, "test");
        let metrics = vec![epoch_metrics(1, 0.75)];
        for _ in 0..2 {
            // The second pass stands for a re-run: it must replace the first.
            sink.event(&Event::Start {
                cfg: &cfg,
                params: 42,
                batches_per_epoch: 2,
                data: &data,
            })
            .unwrap();
            sink.event(&Event::Batch {
                epoch: 1,
                batch: 1,
                step: 1,
                loss: 2.5,
                lr: 0.1,
            })
            .unwrap();
            sink.event(&Event::Epoch {
                metrics: &metrics,
                look: Some(&look),
            })
            .unwrap();
        }
        sink.event(&Event::End(&Ended::Failed("diverged".into())))
            .unwrap();

        let events = read_events(&dir.path().join("units=0004,seed=0"));
        assert_eq!(
            events[0].what,
            Some(What::FileVersion("brain.Event:2".into()))
        );
        let values: Vec<(i64, &proto::Value)> = events
            .iter()
            .filter_map(|e| match &e.what {
                Some(What::Summary(s)) => Some(s.value.iter().map(move |v| (e.step, v))),
                _ => None,
            })
            .flatten()
            .collect();
        let find = |tag: &str| {
            let found: Vec<_> = values.iter().filter(|(_, v)| v.tag == tag).collect();
            assert_eq!(found.len(), 1, "{tag} written {} times", found.len());
            *found[0]
        };
        let scalar = |tag: &str| match find(tag).1.kind {
            Some(ValueKind::SimpleValue(x)) => (find(tag).0, x),
            _ => panic!("{tag} is not a scalar"),
        };
        assert_eq!(scalar("model/params"), (0, 42.0));
        assert_eq!(scalar("loss/train_step"), (1, 2.5));
        // Epoch 1 (optimiser step 2) at step 1: epoch curves count epochs.
        assert_eq!(scalar("accuracy/test"), (1, 0.75));
        assert_eq!(scalar("time/train_seconds"), (1, 1.0));
        for tag in [
            "weights/lstm.weight_ih_l0",
            "hidden/h_T",
            "mistakes/test",
            "run/config",
            "run/environment",
            "_hparams_/session_start_info",
        ] {
            find(tag);
        }
        let end = find("_hparams_/session_end_info").1;
        let content = &end
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap()
            .content;
        let data = HParamsPluginData::decode(&content[..]).unwrap();
        match data.data {
            Some(HParamsData::SessionEndInfo(e)) => assert_eq!(e.status, 2),
            other => panic!("not a session end: {other:?}"),
        }
    }
}
