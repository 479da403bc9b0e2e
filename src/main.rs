/*!
rowseq: what is num_units in an LSTM, and why 128? MNIST images are read as 28 timesteps of 28
pixels by an LSTM whose hidden size is swept; accuracy, parameters and cost are measured.

Table of contents: `cli` parses, `config` validates, `data` loads sequences, `model` is the
LSTM classifier, `train` runs the loop and emits events to `sinks`, `sweep` plans and runs grids,
`store` is the on-disk layout, `summary` turns results into tables.
*/
mod cli;
mod config;
mod data;
mod env;
mod error;
mod model;
mod sinks;
mod store;
mod summary;
mod sweep;
mod train;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Command, RunnerArgs};
use config::SweepConfig;
use error::UserError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UserError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Sweep(args) => {
            let mut sweep = SweepConfig::load(&args.config)?;
            for o in &args.overrides {
                sweep.set(o)?;
            }
            run_sweep(&sweep, &args.runner, args.dry_run)
        }
        Command::Train(args) => {
            args.config().validate()?;
            run_sweep(&args.sweep(), &args.runner, false)
        }
    }
}

fn run_sweep(sweep: &SweepConfig, runner: &RunnerArgs, dry_run: bool) -> Result<ExitCode> {
    let plan = sweep::Plan::new(sweep);
    if dry_run {
        let dir = runner.out.join(&plan.name);
        for r in &plan.runs {
            let done = store::RunDir::new(&dir, &r.id).result().is_some();
            println!(
                "{} {} {}",
                r.id,
                if done { "done   " } else { "pending" },
                r.label
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let device = env::resolve_device(runner.device)?;
    let threads = env::set_threads(runner.threads)?;
    let opts = sweep::Options {
        out: runner.out.clone(),
        device,
        threads,
        data_dir: runner.data_dir.clone(),
        tensorboard: !runner.no_tensorboard,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let outcome = sweep::run(&plan, &opts)?;
    sweep::print_summary(&plan, &outcome);
    if outcome.failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for (label, reason) in &outcome.failed {
            eprintln!("error: run {label} failed: {reason}");
        }
        Ok(ExitCode::from(1))
    }
}
