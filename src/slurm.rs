/*!
`rowseq slurm CONFIG`: scale a sweep out on a Slurm cluster. Writes an sbatch array script,
one task per shard, into the sweep folder (`<out>/<sweep>/slurm.sbatch`); `--submit` hands it
to `sbatch`. Every task runs the same `rowseq sweep` command line; inside the array each one
reads its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (`sweep::shard`) and trains
its share of runs into the one sweep folder, which must be on a filesystem all nodes share.
The tables are rewritten by every task under a lock, so they gather all shards' results;
re-running the sweep (locally or as another array) trains only what is still missing.
*/
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::config::SweepConfig;
use crate::error::UserError;
use crate::shell::quote;
use crate::store;
use crate::sweep::Plan;

/// What to write (`rowseq slurm`'s flags, as `cli::SlurmArgs::request` gives them).
pub struct Request {
    /// The sweep config file, as given (the script names it by its absolute path).
    pub config: PathBuf,
    /// `--set` overrides, passed on to every task.
    pub overrides: Vec<String>,
    /// The folder of sweep folders, on a filesystem every node shares.
    pub out: PathBuf,
    /// CPUs (libtorch threads) of each array task.
    pub threads: u64,
    pub data_dir: Option<PathBuf>,
    /// Array tasks (None: one per run).
    pub tasks: Option<u64>,
}

/// What `rowseq slurm` wrote.
pub struct Script {
    pub path: PathBuf,
    pub tasks: usize,
}

/// Writes the sbatch script of `sweep` and returns its path.
pub fn write(sweep: &SweepConfig, args: &Request) -> Result<Script> {
    let plan = Plan::new(sweep);
    let tasks = args
        .tasks
        .map_or(plan.runs.len(), |t| t as usize)
        .clamp(1, plan.runs.len());
    let cwd = std::env::current_dir().context("could not read the working directory")?;
    check_texts(args, &cwd)?;
    let config = absolute(&cwd, &args.config)
        .canonicalize()
        .map_err(|e| UserError::store(&args.config, format!("cannot read: {e}")))?;
    let out = absolute(&cwd, &args.out);
    let dir = out.join(&plan.name);
    crate::store::create_dir(&dir, "sweep folder")?;
    let exe = std::env::current_exe().context("could not find the rowseq executable")?;
    let command = sweep_command(&exe, &config, &out, &cwd, args);
    let script = format!(
        "#!/bin/bash\n\
         # Written by `rowseq slurm`: sweep {name}, {runs} runs in {tasks} array tasks. Each task\n\
         # trains its shard (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT) into {dir}.\n\
         #SBATCH --job-name=rowseq-{name}\n\
         #SBATCH --array=1-{tasks}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task={threads}\n\
         #SBATCH --output={dir}/slurm-%A_%a.out\n\
         set -euo pipefail\n\
         cd {cwd}\n\
         exec {command}\n",
        name = plan.name,
        runs = plan.runs.len(),
        dir = dir.display(),
        threads = args.threads,
        cwd = quote(&cwd.display().to_string()),
        command = command.join(" "),
    );
    let path = dir.join("slurm.sbatch");
    store::write_atomic(&path, script.as_bytes())?;
    Ok(Script { path, tasks })
}

/// Checks that no path or override of `args` (nor the working directory `cwd`) holds a line
/// break or another control character: each goes into the script's lines.
fn check_texts(args: &Request, cwd: &Path) -> Result<(), UserError> {
    // Every path and override goes into the script's lines: a line break in one would write
    // lines of its own.
    let mut texts: Vec<(&str, String)> = vec![
        ("--out", args.out.display().to_string()),
        ("CONFIG", args.config.display().to_string()),
        ("the working directory", cwd.display().to_string()),
    ];
    if let Some(d) = &args.data_dir {
        texts.push(("--data-dir", d.display().to_string()));
    }
    texts.extend(args.overrides.iter().map(|o| ("--set", o.clone())));
    for (flag, text) in texts {
        if text.chars().any(char::is_control) {
            return Err(UserError::Arg {
                flag: flag.into(),
                value: format!("{text:?}"),
                expected: "expected a value without line breaks or other control characters \
                           (it is written into the sbatch script)"
                    .into(),
            });
        }
    }
    Ok(())
}

/// `p` as an absolute path: as it is, or under `cwd`.
fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The words of the command every array task runs: `exe sweep CONFIG`, the overrides, the
/// absolute `out`, the threads, one run at a time on the CPU, and the data folder, quoted.
fn sweep_command(exe: &Path, config: &Path, out: &Path, cwd: &Path, args: &Request) -> Vec<String> {
    let mut command = vec![
        quote(&exe.display().to_string()),
        "sweep".into(),
        quote(&config.display().to_string()),
    ];
    for o in &args.overrides {
        command.push("--set".into());
        command.push(quote(o));
    }
    command.extend([
        "--out".into(),
        quote(&out.display().to_string()),
        "--threads".into(),
        args.threads.to_string(),
        // One run at a time in the CPUs Slurm gave the task, whatever cores the node has.
        "--jobs".into(),
        "1".into(),
        "--device".into(),
        "cpu".into(),
    ]);
    if let Some(d) = &args.data_dir {
        command.push("--data-dir".into());
        command.push(quote(&absolute(cwd, d).display().to_string()));
    }
    command
}

/// Submits the script with `sbatch`; returns what sbatch printed.
pub fn submit(script: &Script) -> Result<String> {
    let output = Command::new("sbatch")
        .arg(&script.path)
        .output()
        .map_err(|e| {
            UserError::store(
                &script.path,
                format!("cannot run sbatch ({e}); submit the script on a Slurm login node"),
            )
        })?;
    if !output.status.success() {
        return Err(UserError::store(
            &script.path,
            format!(
                "sbatch failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
