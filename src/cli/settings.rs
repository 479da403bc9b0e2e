/*!
Raw flags turned into the settings the commands run with, so that no layer below `cli` sees a
clap type: bench's and slurm's requests; and the words of the value types of lower layers that
flags take (`--device`, `--select`).
*/
use clap::builder::PossibleValue;

use crate::config::Select;
use crate::env::DeviceChoice;

use super::{BenchArgs, SlurmArgs};

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

impl SlurmArgs {
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
