/*!
rowseq: what is num_units in an LSTM, and why 128? MNIST images are read as 28 timesteps of 28
pixels by an LSTM whose hidden size is swept; accuracy, parameters and cost are measured. The
same model classifies other sequences, predicts a number from them (`task = "regress"`) or
forecasts one series (`task = "forecast"`).

Table of contents, along the flow config -> plan -> run -> events -> sinks -> store -> report
(no import cycle: `config`, `records` and `store` import none of the modules that use them):
- `cli` parses the command line and turns flags into settings (the only layer that knows
  clap); `config` validates (every run key declared once, in `config/keys.rs`);
- `data` loads sequences (and cuts a series into forecasting windows); `model` is the
  recurrent network (LSTM, GRU or RNN; layers, directions; a linear head); `ffi` wraps the C++
  kernels of `csrc/` (the CPU LSTM, the Adam update);
- `sweep` plans grids and runs each run (`sweep/one.rs`); `train` is the loop, under the
  caller's policies, emitting events of data to `sinks` (progress, TensorBoard), which only
  observe; `interrupt` turns Ctrl-C into a clean stop; `metrics` scores numeric predictions;
- `records` are the shapes of everything on disk, `store` their files (one atomic writer);
- `summary` turns results into tables, `report` into figures (`style`: their look and their
  SVG/PNG rendering, shared with `explain`'s figures);
- the other commands: `explain` shows what num_units means on the model itself, `predict`
  applies a finished run to new data, `bench` measures throughput against PyTorch, `slurm`
  writes array jobs that run a sweep in shards; `env` is the machine, `error` a user's mistake.
*/
// The figures' look and its drawing macros (`axes!`, `legend!`, `mark!`), in scope for every
// module declared after it (`report`, `explain`).
#[macro_use]
mod style;

mod bench;
mod cli;
mod config;
mod data;
mod env;
mod error;
mod explain;
mod ffi;
mod interrupt;
mod metrics;
mod model;
mod predict;
mod records;
mod report;
mod shell;
mod sinks;
mod slurm;
mod store;
mod summary;
mod sweep;
mod train;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use cli::{Cli, Command, RunnerArgs};
use error::UserError;

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when a reader such as `head` closes the pipe (Rust's
    // default turns that into a panic on the next print). Results are written atomically, so
    // a run stopped this way leaves nothing half-written.
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    env::tune_allocator();
    env::flush_denormals();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage mistakes are one line like every other bad input (clap adds a usage block
        // and a tip after a blank line, which are cut, and puts a list of possible values on
        // a line of its own, which is joined on; anything else is escaped); --help and
        // --version print as clap prints them.
        Err(e) if e.use_stderr() => {
            let text = e.render().to_string();
            let first = text.split("\n\n").next().unwrap_or_default().trim_end();
            let message = first.replace("\n  [possible values:", " [possible values:");
            let message = if message.is_empty() {
                "error: bad arguments"
            } else {
                message.as_str()
            };
            eprintln!("{} (see --help)", error::inert(message));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line whatever a name, path or value holds (`error::inert`).
            eprintln!("error: {}", error::inert(&format!("{e:#}")));
            if e.downcast_ref::<UserError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Parse, build, run, export: each command's settings come from `cli`, its work from its
/// module, and what it prints or writes is said here.
fn run(cli: Cli) -> Result<ExitCode> {
    env::select_kernel()?;
    match cli.command {
        Command::Sweep(args) if args.status => {
            let sweep = args.sweep()?;
            let plan = sweep::Plan::new(&sweep);
            let dir = args.runner.out.join(&plan.name);
            print!("{}", sweep::status::render(&plan, &dir));
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep(args) => {
            let sweep = args.sweep()?;
            run_sweep(
                sweep::Plan::new(&sweep),
                &args.runner,
                args.dry_run,
                !args.no_report,
            )
        }
        Command::Train(args) => {
            // The run joins its folder's earlier runs: the tables list them all.
            let sweep = args.checked_sweep()?;
            let plan = sweep::Plan::new(&sweep).gather(&args.runner.out.join(&sweep.name));
            run_sweep(plan, &args.runner, false, false)
        }
        Command::Slurm(args) => run_slurm(&args),
        Command::Status(args) => {
            print!("{}", sweep::status::render_folder(&args.dir)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) if args.sweep_dir.extension().is_some_and(|e| e == "json") => {
            let out = args
                .out
                .unwrap_or_else(|| report::bench::default_dir(&args.sweep_dir));
            let files = report::bench::render(&args.sweep_dir, &out)?;
            println!("report: bench, {} files in {}", files.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let out = args
                .out
                .unwrap_or_else(|| report::default_dir(&args.sweep_dir));
            print_report(&report::render(&args.sweep_dir, &out, args.select)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => run_explain(&args),
        Command::Predict(args) => {
            let p = predict::run(&predict::Request {
                runs: &args.runs,
                select: &args.select,
                best: args.best,
                data: &args.data,
                data_dir: args.data_dir.as_deref(),
                out: &args.out,
                force: args.force,
            })?;
            println!("{}", p.summary());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            bench::run(&args.request())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reference { page } => {
            print!("{}", page.markdown());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the sbatch script of a sharded sweep, and submits it when asked.
fn run_slurm(args: &cli::SlurmArgs) -> Result<ExitCode> {
    let script = slurm::write(&args.sweep()?, &args.request())?;
    println!(
        "wrote {} ({} array tasks)",
        script.path.display(),
        script.tasks
    );
    if args.submit {
        println!("{}", slurm::submit(&script)?);
    } else {
        println!("submit it with: sbatch {}", script.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_explain(args: &cli::ExplainArgs) -> Result<ExitCode> {
    if !args.hidden.is_empty() {
        return run_hidden(args);
    }
    if let [_, second, ..] = args.run_dirs.as_slice() {
        return Err(UserError::Arg {
            flag: "explain".into(),
            value: second.display().to_string(),
            expected: "one run folder (several only with --hidden)".into(),
        }
        .into());
    }
    if let Some(path) = &args.svg {
        check_svg(args, path)?;
    }
    let e = match args.run_dirs.first() {
        Some(dir) => explain::explain_run(dir, args.data_dir.as_deref())?,
        None => explain::explain_config(&args.run.config(), args.data_dir.as_deref())?,
    };
    if let Some(path) = &args.svg {
        store::write_atomic(path, explain::diagram_svg(&e).as_bytes())?;
    }
    match args.format {
        cli::Format::Text => print!("{}", explain::render_text(&e)),
        cli::Format::Json => println!("{}", serde_json::to_string_pretty(&e)?),
    }
    if let Some(path) = &args.svg {
        eprintln!("diagram written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `explain RUN... --hidden INDEX...`: the runs' hidden states for those test examples, drawn.
fn run_hidden(args: &cli::ExplainArgs) -> Result<ExitCode> {
    if args.run_dirs.is_empty() {
        return Err(UserError::Arg {
            flag: "--hidden".into(),
            value: args
                .hidden
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            expected: "a trained run's folder to draw (rowseq explain RUN_DIR --hidden 0 1)".into(),
        }
        .into());
    }
    let w = explain::hidden(&explain::HiddenRequest {
        runs: &args.run_dirs,
        examples: &args.hidden,
        out: args.out.as_deref(),
        force: args.force,
        data_dir: args.data_dir.as_deref(),
    })?;
    println!(
        "hidden states of {} test example{} of {} run{} drawn to {} and {}",
        w.examples,
        if w.examples == 1 { "" } else { "s" },
        w.runs,
        if w.runs == 1 { "" } else { "s" },
        w.svg.display(),
        w.png.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The SVG never replaces an input, a run's file or a file that is not an SVG.
fn check_svg(args: &cli::ExplainArgs, path: &std::path::Path) -> Result<()> {
    let run_dir = args.run_dirs.first();
    let dataset = match run_dir {
        Some(dir) => (store::RunDir { path: dir.clone() }).config()?.dataset,
        None => args.run.config().dataset,
    };
    store::output::check_output(
        "--svg",
        path,
        run_dir.map(|d| d.as_path()),
        &store::output::dataset_files(&dataset),
        |head| head.trim_ascii_start().starts_with(b"<svg"),
        "an SVG diagram",
        args.force,
    )?;
    Ok(())
}

/// Where the report went, and what it lacks.
fn print_report(r: &report::Report) {
    println!(
        "report: {} runs, {} files in {}",
        r.runs,
        r.files.len(),
        r.dir.display()
    );
    if !r.missing.is_empty() {
        println!(
            "report: {} planned run{} no result (listed in {})",
            r.missing.len(),
            if r.missing.len() == 1 {
                " has"
            } else {
                "s have"
            },
            r.dir.join("report.md").display()
        );
    }
    if !r.no_metrics.is_empty() {
        let (has, left) = match r.no_metrics.len() {
            1 => (" has", "it is left"),
            _ => ("s have", "they are left"),
        };
        eprintln!(
            "warning: {} run{has} no whole metrics.jsonl (missing, unreadable, or not one record \
             per epoch), so {left} out of the learning curves: {}",
            r.no_metrics.len(),
            r.no_metrics.join(", ")
        );
    }
}

/// Trains a sweep's missing runs (or lists them: `dry_run`), then prints its table and, with
/// `with_report`, writes its report.
fn run_sweep(
    plan: sweep::Plan,
    runner: &RunnerArgs,
    dry_run: bool,
    with_report: bool,
) -> Result<ExitCode> {
    if dry_run {
        runner.shard()?; // a bad --shard is refused in a dry run too
        print!(
            "{}",
            sweep::status::dry_run(&plan, &runner.out.join(&plan.name))
        );
        return Ok(ExitCode::SUCCESS);
    }
    let opts = runner.options()?;
    interrupt::install()?;
    if opts.worker {
        let interrupted = sweep::jobs::serve(&plan, &opts)?;
        return Ok(ExitCode::from(if interrupted {
            interrupt::EXIT_CODE
        } else {
            0
        }));
    }
    let outcome = sweep::run(&plan, &opts)?;
    if outcome.totals.interrupted {
        eprintln!("interrupted: run `{}` again to resume", opts.command);
        return Ok(ExitCode::from(interrupt::EXIT_CODE));
    }
    sweep::print_summary(&plan, &outcome, opts.display.runs);
    if with_report {
        // A report that cannot be written does not undo the runs: warn and go on.
        match report::render(&outcome.dir, &report::default_dir(&outcome.dir), None) {
            Ok(r) if opts.display.runs => print_report(&r),
            Ok(_) => {}
            Err(e) => eprintln!(
                "warning: no report written: {}",
                error::inert(&format!("{e:#}"))
            ),
        }
    }
    Ok(failures(&outcome))
}

/// A sweep's exit code: 1, each failure said, if any run failed now or before.
fn failures(outcome: &sweep::Outcome) -> ExitCode {
    let left = outcome.totals.left_failed;
    if outcome.totals.failed.is_empty() && outcome.totals.failed_before == 0 && left == 0 {
        return ExitCode::SUCCESS;
    }
    for (label, reason) in &outcome.totals.failed {
        eprintln!("error: run {label} failed: {}", error::inert(reason));
    }
    if outcome.totals.failed_before > 0 {
        eprintln!(
            "error: {} runs failed in an earlier invocation (see `rowseq status {}`; \
             --retry-failed trains them again)",
            outcome.totals.failed_before,
            outcome.dir.display()
        );
    }
    if left > 0 {
        eprintln!(
            "error: {left} failed runs stay failed: successive halving decided their rungs \
             without them (see above)"
        );
    }
    ExitCode::from(1)
}
