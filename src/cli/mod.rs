/*!
Command-line interface: subcommands and flags (clap derive). The only layer that knows clap:
raw flags live here, and become the settings the commands run with.

- `mod.rs`: the subcommands and their flags;
- `run_flags`: the `--flag` of every run key, made from the key table of `config/keys.rs`;
- `settings`: flags turned into sweep configs, sweep options, bench and slurm requests;
- `reference`: the book's CLI and config reference pages, made from the code.
*/
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::env::DeviceChoice;

#[cfg(test)]
mod documented;
mod reference;
mod run_flags;
mod settings;

pub use reference::Page;
pub use run_flags::RunFlags;

#[derive(Parser, Debug)]
#[command(
    name = "rowseq",
    version,
    about = "What is num_units in an LSTM, and why 128? MNIST read row by row (28 timesteps of 28 pixels), \
             an LSTM swept over its hidden size, measured. And LSTMs for your own series: classify them, \
             predict a number from each, or forecast what comes next, then use the model on new data.",
    after_help = "Examples:\n  \
        rowseq sweep configs/units.toml                                   the num_units sweep on MNIST\n  \
        rowseq train --dataset ts:data/GunPoint/GunPoint                  classify your own series\n  \
        rowseq train --dataset ts:data/Covid3Month/Covid3Month --task regress      a number per series\n  \
        rowseq train --dataset csv:data/sunspots/sunspots.csv --task forecast --columns SUNACTIVITY   forecast\n  \
        rowseq predict experiments/GunPoint/<run-id> new.ts               use a trained run\n\n\
        The book: docs/ (mdbook serve docs); every key: docs/src/reference/config.md",
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every configuration of a sweep file that has no result yet, then print the table.
    #[command(
        after_help = "Examples:\n  rowseq sweep configs/units.toml\n  rowseq sweep configs/ucr.toml --set 'seed=[0,1]' --dry-run"
    )]
    Sweep(SweepArgs),
    /// Train one configuration, in a folder named after the data set (<out>/GunPoint/, ...)
    /// where earlier runs stay and its tables list them all.
    #[command(
        after_help = "Examples:\n  rowseq train --num-units 64 --epochs 3                       MNIST\n  rowseq train --dataset ts:data/GunPoint/GunPoint               classify\n  rowseq train --dataset ts:data/Covid3Month/Covid3Month --task regress\n  rowseq train --dataset csv:data/co2/co2.csv --task forecast --season 52 --horizon 4"
    )]
    Train(TrainArgs),
    /// Where a sweep folder stands: done, running, failed and pending runs.
    #[command(after_help = "Example:\n  rowseq status experiments/units")]
    Status(StatusArgs),
    /// Write a Slurm sbatch array script that runs a sweep in shards (--submit submits it).
    #[command(
        after_help = "Example:\n  rowseq slurm configs/units.toml --out /shared/experiments --tasks 6 --submit"
    )]
    Slurm(SlurmArgs),
    /// What num_units is: shapes, parameters, memory and FLOPs of the model these flags
    /// build, or of a trained run (then also measured hidden-unit statistics); with --hidden,
    /// trained runs' hidden states on test examples, drawn.
    #[command(
        after_help = "Examples:\n  rowseq explain --num-units 128 --batch-size 128\n  rowseq explain experiments/units/<run-id>\n  rowseq explain RUN_A RUN_B RUN_C --hidden 0 1 --out hidden.svg   h_t of test examples 0 and 1, side by side"
    )]
    Explain(ExplainArgs),
    /// Rebuild the figures and tables of a sweep from its results on disk (never trains),
    /// or plot a bench JSON.
    #[command(
        after_help = "Examples:\n  rowseq report experiments/units\n  rowseq report bench/mine.json"
    )]
    Report(ReportArgs),
    /// Training and evaluation throughput per width, rowseq against the same model, data and
    /// step in PyTorch (scripts/bench_torch.py), with GFLOP/s against the sgemm peak; saved as JSON.
    #[command(
        after_help = "Example:\n  rowseq bench --units 128,256 --threads 2 --out bench/mine.json"
    )]
    Bench(BenchArgs),
    /// Apply finished runs to new data: a class per sequence with each class's probability (and
    /// the accuracy when labelled), a number per sequence, or a forecast's next values.
    #[command(
        after_help = "Examples:\n  rowseq predict experiments/GunPoint/<run-id> ts:data/GunPoint/GunPoint          a class per series\n  rowseq predict experiments/ucr ts:data/GunPoint/GunPoint --select seed=0   an ensemble\n  rowseq predict experiments/search mnist --best                              the best trial by validation\n  rowseq predict experiments/sunspots/<run-id> data/sunspots/sunspots.csv    the next values"
    )]
    Predict(PredictArgs),
    /// Print a page of the book's reference made from the code (scripts/docs.sh).
    #[command(hide = true)]
    Reference {
        #[arg(value_enum)]
        page: Page,
    },
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// A finished run's folder (<out>/<sweep>/<run-id>); several, or a sweep folder (its
    /// finished runs, narrowed by --select), predict as an ensemble: the mean of their
    /// probabilities (or values).
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// New sequences: a .ts or .csv file like the run's data, a dataset (ts:DIR/NAME,
    /// csv:TRAIN,TEST: its test file), or an image set (mnist, idx:DIR: its test images).
    pub data: String,
    /// Where to write the predictions (CSV): never an input of the command or a file of a run
    /// folder; an existing file is replaced only if it is a previous predictions file (or with
    /// --force).
    #[arg(long, default_value = "predictions.csv")]
    pub out: PathBuf,
    /// Overwrite an existing --out file that is not a previous predictions file (inputs and
    /// run folders stay refused).
    #[arg(long)]
    pub force: bool,
    /// Only the runs whose KEY is VALUE (a run key, e.g. num_units=128 or units=128;
    /// repeatable), of a sweep folder or of the run folders given.
    #[arg(long, value_name = "KEY=VALUE")]
    pub select: Vec<String>,
    /// Of those runs, only the configuration with the best validation score (accuracy, or
    /// the validation error of a numeric task), its seeds as an ensemble: a search's chosen
    /// trial. Test scores never choose.
    #[arg(long)]
    pub best: bool,
    /// Folder of an image set's files (default $ROWSEQ_DATA/<dataset>, else data/<dataset>).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Widths to measure, comma-separated (default: those of configs/units.toml).
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_values_t = crate::bench::DEFAULT_UNITS)]
    pub units: Vec<i64>,
    #[arg(long, allow_negative_numbers = true, default_value_t = 128)]
    pub batch_size: usize,
    /// Timed training steps per width, after the warm-up (in 5 timed chunks).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
    pub steps: usize,
    /// Untimed training steps per width before the timed ones.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub warmup: usize,
    /// Rounds of (rowseq, then PyTorch) over all widths; the chunks of every round are pooled,
    /// so a machine that drifts during the run affects both sides alike.
    #[arg(long, allow_negative_numbers = true, default_value_t = 3)]
    pub rounds: usize,
    /// Test images per timed evaluation pass.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10000)]
    pub eval_samples: usize,
    /// Seed of the initial weights and of the batches.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// cpu, cuda, or auto (cuda when libtorch sees a GPU); PyTorch runs on the same.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Threads for rowseq and for PyTorch (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// The JSON file to write (default: bench/bench-<UTC date-time>.json); an existing file is
    /// replaced only if it is a bench record (or with --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite an existing --out file that is not a bench record.
    #[arg(long)]
    pub force: bool,
    /// Measure rowseq only, without the PyTorch reference.
    #[arg(long)]
    pub no_reference: bool,
    /// Python with torch and numpy for the reference (default: the set-up's venv).
    #[arg(long, conflicts_with = "no_reference")]
    pub python: Option<PathBuf>,
    /// Folder with MNIST's IDX files (default: $ROWSEQ_DATA/mnist, else data/mnist).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The sweep folder, e.g. experiments/units; or a bench JSON written by `rowseq bench`.
    pub sweep_dir: PathBuf,
    /// Output folder (default: <sweep_dir>/report; for a bench JSON: its path without .json):
    /// new, empty, or one a report wrote before; a folder holding other files is refused.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Which epoch's test accuracy the tables and figures show (default: the sweep's `select`
    /// key, else last): last, or best-val (the first epoch with the best validation accuracy).
    #[arg(long, value_enum)]
    pub select: Option<crate::config::Select>,
}

/// Where and how runs execute.
#[derive(Args, Debug, Clone)]
pub struct RunnerArgs {
    /// cpu, cuda, or auto (cuda when libtorch sees a GPU).
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// libtorch threads of each run (default 1). A run's results depend on its thread count
    /// (bit-identical for a fixed count on CPU), never on how many runs train at once.
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Folder that holds sweep folders.
    #[arg(long, default_value = "experiments")]
    pub out: PathBuf,
    /// Folder with the dataset files (MNIST: the four IDX files, raw or .gz; torchvision's
    /// MNIST/raw layout works). Default: $ROWSEQ_DATA/<dataset>, else data/<dataset>.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Write no TensorBoard event files (default: <out>/<sweep>/tb, one run per folder).
    #[arg(long)]
    pub no_tensorboard: bool,
    /// Train again the runs that failed in an earlier invocation (they are skipped otherwise).
    #[arg(long)]
    pub retry_failed: bool,
    /// If another rowseq is running this sweep, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
    /// Runs trained at once, each in its own process with --threads threads: N, or auto
    /// (cores / --threads on CPU, at most the runs left; one on a GPU).
    #[arg(long, allow_negative_numbers = true, default_value = "auto", value_parser = parse_jobs)]
    pub jobs: Jobs,
    /// Train only shard K of N (e.g. 2/4): every N-th run of the plan from the K-th. Inside a
    /// Slurm array job the default is SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Print only warnings, failures and the closing table (no progress bars, no line per run).
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print a line per epoch on a terminal too (without a terminal, as in a log or under
    /// Slurm, every epoch has its line anyway).
    #[arg(long, short)]
    pub verbose: bool,
    /// Internal: a --jobs worker process, training the runs whose ids arrive on its stdin.
    #[arg(long, hide = true)]
    pub worker: bool,
    /// Internal: the lines a --jobs worker prints, as its parent chose them.
    #[arg(long, hide = true, default_value = "er")]
    pub worker_display: String,
}

/// `--jobs`: a count, or one run per free core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jobs {
    Auto,
    Fixed(usize),
}

fn parse_jobs(s: &str) -> Result<Jobs, String> {
    match s {
        "auto" => Ok(Jobs::Auto),
        n => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Jobs::Fixed(n)),
            _ => Err("expected auto or a count of at least 1".into()),
        },
    }
}

#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// Sweep config (TOML), as for `rowseq sweep`.
    pub config: PathBuf,
    /// Override a key, as for `rowseq sweep` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Folder that holds sweep folders; must be on a filesystem shared by the nodes.
    #[arg(long, default_value = "experiments")]
    pub out: PathBuf,
    /// CPUs per array task (libtorch threads).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: u64,
    /// Folder with the dataset files, as for `rowseq sweep`.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Array tasks, i.e. shards (default: one per run).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub tasks: Option<u64>,
    /// Submit the script with sbatch.
    #[arg(long)]
    pub submit: bool,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// A sweep folder (<out>/<sweep>).
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Sweep config (TOML): any run key may be a list; the grid is their product.
    pub config: PathBuf,
    /// Override a key, its value in TOML, e.g. --set epochs=1 or --set 'num_units=[8,16]'; a bare
    /// word is text: --set cell=gru (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Print the planned runs and whether each is done, then exit without training.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not write the report (figures and tables) at the end of the sweep.
    #[arg(long)]
    pub no_report: bool,
    /// Print where the sweep stands (done / running / failed / pending), then exit.
    #[arg(long, conflicts_with = "dry_run")]
    pub status: bool,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunFlags,
    /// Folder under --out that the run joins (default: the data set's name, e.g. GunPoint or
    /// mnist). Runs accumulate there: its tables list every finished run in it.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A trained run's folder (<out>/<sweep>/<run-id>); its config replaces the flags. With
    /// --hidden, several run folders, drawn side by side.
    #[arg(value_name = "RUN_DIR")]
    pub run_dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub run: RunFlags,
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write an SVG diagram of the unrolled network to this file: never an input or a file
    /// of a run folder; an existing file is replaced only if it is an SVG (or with --force).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Overwrite an existing --svg (or --out) file that is not an SVG (inputs and run
    /// folders stay refused).
    #[arg(long)]
    pub force: bool,
    /// Draw the hidden state of these test examples (0-based indices into each run's test
    /// set, at most 8) for the trained runs given: the input, the last recurrent layer's h_t
    /// (and c_t for an LSTM) as units x timesteps, and the prediction after each step. Writes
    /// hidden.svg and hidden.png in the run's folder, or --out.
    #[arg(long, num_args = 1.., value_name = "INDEX", allow_negative_numbers = true, conflicts_with = "svg")]
    pub hidden: Vec<i64>,
    /// With --hidden: the figure's SVG file (FILE.svg; the PNG goes beside it, FILE.png),
    /// needed for several runs: never an input or a file of a run folder; existing files are
    /// replaced only if they are an SVG and a PNG (or with --force).
    #[arg(long, value_name = "FILE.svg", requires = "hidden")]
    pub out: Option<PathBuf>,
    /// Dataset folder, for a trained run's measurements (default $ROWSEQ_DATA/<dataset>, else data/<dataset>).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}
