/*!
Progress display. On a terminal: a sweep bar (runs done, ETA weighted by each run's expected
cost) above a run bar (epoch, batches, loss). When stdout is not a terminal (CI, a log file):
one plain line per finished epoch and per finished run, nothing redrawn.
*/
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::train::{Event, Sink};

/// The sweep-level display.
pub struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
    runs: usize,
    done: usize,
}

impl Progress {
    /// `total_cost` is the sum of `cost` over the runs that will train.
    pub fn new(runs: usize, total_cost: u64) -> Self {
        let bars = std::io::stdout().is_terminal().then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            let bar = multi.add(ProgressBar::new(total_cost.max(1)));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:.bold} [{bar:30.cyan/blue}] {msg} elapsed {elapsed_precise}, ETA {eta_precise}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix("sweep");
            bar.set_message(format!("0/{runs} runs"));
            bar.enable_steady_tick(Duration::from_millis(500));
            (multi, bar)
        });
        Progress {
            bars,
            runs,
            done: 0,
        }
    }

    /// A line above the bars (or plain on stdout).
    pub fn println(&self, line: &str) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => println!("{line}"),
        }
    }

    /// The sink for one run; `cost_per_epoch` advances the sweep bar after each epoch.
    pub fn run(&mut self, label: &str, epochs: usize, cost_per_epoch: u64) -> RunProgress<'_> {
        let bar = self.bars.as_ref().map(|(multi, _)| {
            let bar = multi.add(ProgressBar::new(1));
            bar.set_style(
                ProgressStyle::with_template(
                    "  {prefix} [{bar:30.green/white}] {pos}/{len} batches {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        RunProgress {
            sweep: self,
            bar,
            label: label.to_string(),
            epochs,
            cost_per_epoch,
        }
    }

    /// Marks a run finished (or skipped as failed) with a closing line.
    pub fn finish_run(&mut self, line: &str) {
        self.done += 1;
        if let Some((_, bar)) = &self.bars {
            bar.set_message(format!("{}/{} runs", self.done, self.runs));
        }
        self.println(line);
    }

    pub fn finish(&self) {
        if let Some((_, bar)) = &self.bars {
            bar.finish_and_clear();
        }
    }
}

/// The display of one run.
pub struct RunProgress<'a> {
    sweep: &'a mut Progress,
    bar: Option<ProgressBar>,
    label: String,
    epochs: usize,
    cost_per_epoch: u64,
}

impl Drop for RunProgress<'_> {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Sink for RunProgress<'_> {
    fn event(&mut self, event: &Event) -> anyhow::Result<()> {
        match event {
            Event::Start {
                batches_per_epoch, ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(*batches_per_epoch as u64);
                    bar.set_prefix(format!("{} epoch 1/{}", self.label, self.epochs));
                }
            }
            Event::Batch {
                epoch, batch, loss, ..
            } => {
                if let Some(bar) = &self.bar {
                    if *batch == 1 {
                        bar.set_prefix(format!("{} epoch {epoch}/{}", self.label, self.epochs));
                    }
                    bar.set_position(*batch as u64);
                    if *batch % 10 == 0 {
                        bar.set_message(format!("loss {loss:.4}"));
                    }
                }
            }
            Event::Epoch { metrics, .. } => {
                let m = metrics.last().expect("at least one epoch");
                if let Some((_, bar)) = &self.sweep.bars {
                    bar.inc(self.cost_per_epoch);
                }
                self.sweep.println(&format!(
                    "  {} epoch {}/{}: loss {:.4}, {} ({:.1}s + {:.1}s eval)",
                    self.label,
                    m.epoch,
                    self.epochs,
                    m.train_loss,
                    m.scores_text(),
                    m.train_seconds,
                    m.eval_seconds
                ));
            }
            Event::End(_) => {}
        }
        Ok(())
    }
}
