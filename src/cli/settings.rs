/*!
Raw flags turned into the settings the commands run with, so that no layer below `cli` sees a
clap type: a sweep file loaded with its `--set` overrides, a one-run sweep of `train`'s flags,
the sweep's `Options` (device, threads, jobs, shard), bench's and slurm's requests; and the
words of the value types of lower layers that flags take (`--device`, `--select`).
*/
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;
use clap::builder::PossibleValue;

use crate::config::{self, Select, SweepConfig};
use crate::env::{self, DeviceChoice};
use crate::error::UserError;
use crate::sinks::progress::Display;
use crate::sweep;

use super::{BenchArgs, Jobs, RunnerArgs, SlurmArgs, SweepArgs, TrainArgs};

/// `clap::ValueEnum` for a value type of a lower layer, which knows no clap: each variant's
/// word and, optionally, its help among the possible values.
macro_rules! value_words {
    ($ty:ident { $($variant:ident = $word:literal $(: $help:literal)?,)* }) => {
        impl clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($ty::$variant,)*]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($ty::$variant => PossibleValue::new($word)$(.help($help))?,)*
                })
            }
        }
    };
}

value_words!(DeviceChoice {
    Auto = "auto": "CUDA if libtorch sees a GPU, else CPU",
    Cpu = "cpu",
    Cuda = "cuda",
});

value_words!(Select {
    Last = "last": "The final epoch's model",
    BestVal = "best-val": "The model of the epoch with the best validation accuracy",
});

/// A sweep file with `--set` overrides applied, its name checked.
pub(super) fn load_sweep(path: &Path, overrides: &[String]) -> Result<SweepConfig> {
    let mut sweep = SweepConfig::load(path)?;
    sweep.set_all(overrides)?;
    sweep.check_name()?;
    Ok(sweep)
}

impl SweepArgs {
    /// The sweep to run: the file with its overrides.
    pub fn sweep(&self) -> Result<SweepConfig> {
        load_sweep(&self.config, &self.overrides)
    }
}

impl SlurmArgs {
    /// The sweep to script: the file with its overrides.
    pub fn sweep(&self) -> Result<SweepConfig> {
        load_sweep(&self.config, &self.overrides)
    }

    /// The script's request: these flags, without clap (`--submit` is main's).
    pub fn request(&self) -> crate::slurm::Request {
        crate::slurm::Request {
            config: self.config.clone(),
            overrides: self.overrides.clone(),
            out: self.out.clone(),
            threads: self.threads,
            data_dir: self.data_dir.clone(),
            tasks: self.tasks,
        }
    }
}

impl TrainArgs {
    /// The one-run sweep to train, its name and flags checked.
    pub fn checked_sweep(&self) -> Result<SweepConfig> {
        if !config::valid_name(&self.folder()) {
            return Err(UserError::Arg {
                flag: "--name".into(),
                value: format!("{:?}", self.folder()),
                expected: "expected a folder name of letters, digits, '-', '_' or '.', not \
                           starting with '.'"
                    .into(),
            }
            .into());
        }
        self.run.config().validate()?;
        Ok(self.sweep())
    }
}

impl RunnerArgs {
    /// This process's shard (K, N) of the sweep, from `--shard` or Slurm's environment.
    pub fn shard(&self) -> Result<Option<(usize, usize)>, UserError> {
        sweep::shard::resolve(self.shard.as_deref())
    }

    /// How the sweep runs: the shard, the device, the threads of each run (and libtorch's,
    /// set here), the runs at once, and the command line that `sweep.json` records.
    pub fn options(&self) -> Result<sweep::Options> {
        let shard = self.shard()?;
        let device = env::resolve_device(self.device)?;
        // One thread a run by default, so that results do not depend on the machine's core
        // count.
        let threads = env::set_threads(Some(self.threads.unwrap_or(1)))?;
        let jobs = match self.jobs {
            Jobs::Fixed(n) => n,
            Jobs::Auto => sweep::jobs::auto(device, threads),
        };
        let command = std::env::args()
            .map(|a| crate::shell::quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        Ok(sweep::Options {
            out: self.out.clone(),
            device,
            threads,
            data_dir: self.data_dir.clone(),
            tensorboard: !self.no_tensorboard,
            command,
            retry_failed: self.retry_failed,
            jobs,
            shard,
            worker: self.worker,
            display: match self.worker {
                true => Display::worker(&self.worker_display),
                false => {
                    Display::resolve(self.quiet, self.verbose, std::io::stdout().is_terminal())
                }
            },
            contended: if self.wait {
                sweep::lock::Contended::Wait
            } else {
                sweep::lock::Contended::Refuse
            },
        })
    }
}

impl BenchArgs {
    /// The bench's request: these flags, without clap, the reference's Python chosen.
    pub fn request(&self) -> crate::bench::Request {
        crate::bench::Request {
            units: self.units.clone(),
            batch_size: self.batch_size,
            steps: self.steps,
            warmup: self.warmup,
            rounds: self.rounds,
            eval_samples: self.eval_samples,
            seed: self.seed,
            device: self.device,
            threads: self.threads,
            out: self.out.clone(),
            force: self.force,
            reference: match (self.no_reference, &self.python) {
                (true, _) => None,
                (false, Some(p)) => Some(p.clone()),
                (false, None) => Some(crate::bench::default_python()),
            },
            data_dir: self.data_dir.clone(),
        }
    }
}
