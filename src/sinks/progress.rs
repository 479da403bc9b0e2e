/*!
Progress display. On a terminal: a sweep bar (runs done, ETA weighted by each run's expected
cost) above a run bar (epoch, batches, loss), and one line per finished run. When stdout is
not a terminal (CI, a log file, Slurm): one plain line per finished epoch and per finished run,
nothing redrawn. `--verbose` adds the epoch lines on a terminal; `--quiet` keeps only warnings,
failures and the closing table (`Display`).
*/
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::train::{Event, Sink};

/// What a sweep prints while it trains: resolved once from `--quiet` / `--verbose` and
/// whether stdout is a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Display {
    /// Progress bars (a terminal only).
    pub bars: bool,
    /// One line per finished epoch.
    pub epochs: bool,
    /// One line per finished run, and what the sweep is about to do.
    pub runs: bool,
}

impl Display {
    pub fn resolve(quiet: bool, verbose: bool, terminal: bool) -> Display {
        Display {
            bars: terminal && !quiet,
            epochs: verbose || (terminal, quiet) == (false, false),
            runs: !quiet,
        }
    }

    /// A `--jobs` worker's display: its stdout is the parent's pipe, so no bars; the lines
    /// are the parent's choice (`--worker-display`).
    pub fn worker(code: &str) -> Display {
        Display {
            bars: false,
            epochs: code.contains('e'),
            runs: code.contains('r'),
        }
    }

    /// The `--worker-display` value that gives a worker this display's lines.
    pub fn worker_code(self) -> String {
        match (self.epochs, self.runs) {
            (true, true) => "er".into(),
            (true, false) => "e".into(),
            (false, true) => "r".into(),
            (false, false) => "-".into(),
        }
    }
}

/// Seconds as a progress line shows them: a tenth of a second at least.
pub fn seconds(s: f64) -> String {
    if s < 0.1 {
        "<0.1s".into()
    } else {
        format!("{s:.1}s")
    }
}

/// The sweep-level display.
pub struct Progress {
    display: Display,
    bars: Option<(MultiProgress, ProgressBar)>,
    runs: usize,
    done: usize,
}

impl Progress {
    /// `total_cost` is the sum of `cost` over the runs that will train.
    pub fn new(runs: usize, total_cost: u64, display: Display) -> Self {
        let bars = (display.bars && std::io::stdout().is_terminal()).then(|| {
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
            display,
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
            jittered: false,
        }
    }

    /// A line of what the sweep does (a run done, resumed, waited for): left out by `--quiet`.
    pub fn note(&self, line: &str) {
        if self.display.runs {
            self.println(line);
        }
    }

    /// Marks a run finished with a closing line, which `--quiet` leaves out unless it says the
    /// run failed (`failed`).
    pub fn finish_run(&mut self, line: &str, failed: bool) {
        self.done += 1;
        if let Some((_, bar)) = &self.bars {
            bar.set_message(format!("{}/{} runs", self.done, self.runs));
        }
        if failed {
            self.println(line);
        } else {
            self.note(line);
        }
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
    /// The run trains on noisy inputs: its training accuracy is measured on them.
    jittered: bool,
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
                cfg,
                batches_per_epoch,
                ..
            } => {
                self.jittered = matches!(cfg.noise, crate::config::Noise::Std(x) if x > 0.0);
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
                if self.sweep.display.epochs {
                    self.sweep.println(&format!(
                        "  {} epoch {}/{}: loss {:.4}, {} ({} + {} eval)",
                        self.label,
                        m.epoch,
                        self.epochs,
                        m.train_loss,
                        m.scores_text(self.jittered),
                        seconds(m.train_seconds),
                        seconds(m.eval_seconds)
                    ));
                }
            }
            Event::End(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_shows_bars_and_runs_a_log_every_epoch() {
        let terminal = Display::resolve(false, false, true);
        assert_eq!(
            (terminal.bars, terminal.epochs, terminal.runs),
            (true, false, true)
        );
        let log = Display::resolve(false, false, false);
        assert_eq!((log.bars, log.epochs, log.runs), (false, true, true));
        let verbose = Display::resolve(false, true, true);
        assert_eq!(
            (verbose.bars, verbose.epochs, verbose.runs),
            (true, true, true)
        );
        for terminal in [true, false] {
            let quiet = Display::resolve(true, false, terminal);
            assert_eq!(
                (quiet.bars, quiet.epochs, quiet.runs),
                (false, false, false)
            );
        }
    }

    #[test]
    fn a_worker_prints_the_lines_its_parent_chose() {
        for quiet in [true, false] {
            for verbose in [true, false] {
                for terminal in [true, false] {
                    let d = Display::resolve(quiet, verbose, terminal);
                    let w = Display::worker(&d.worker_code());
                    assert_eq!((w.bars, w.epochs, w.runs), (false, d.epochs, d.runs));
                }
            }
        }
    }

    #[test]
    fn short_times_are_not_shown_as_zero() {
        assert_eq!(seconds(0.04), "<0.1s");
        assert_eq!(seconds(0.1), "0.1s");
        assert_eq!(seconds(12.345), "12.3s");
    }
}
