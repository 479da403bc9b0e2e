//! The PyTorch side of the bench: the bundled `scripts/bench_torch.py`, run by the set-up's
//! Python on the same settings, data files, batches and initial weights.
use super::*;

/// The reference script, bundled so the binary always runs the version it was built with.
const SCRIPT: &str = include_str!("../../scripts/bench_torch.py");

/// The reference script's stdout.
#[derive(Deserialize)]
pub(super) struct ReferenceOutput {
    #[serde(flatten)]
    pub(super) about: Reference,
    pub(super) widths: Vec<Timings>,
}

/// The set-up's venv: `.venv` of the checkout (here, or where the binary was built), else
/// `$ROWSEQ_CACHE/venv` or `~/.cache/rowseq/venv`.
pub fn default_python() -> PathBuf {
    let mut candidates = vec![
        PathBuf::from(".venv/bin/python"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    ];
    let cache = std::env::var_os("ROWSEQ_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/rowseq")));
    if let Some(c) = cache {
        candidates.push(c.join("venv/bin/python"));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or(candidates.last().expect("not empty"))
        .clone()
}

/// Checks that `python` runs and imports torch and numpy; returns torch's version.
pub(super) fn check_python(python: &Path) -> Result<String> {
    let bad = |why: String| {
        UserError::Arg {
        flag: "--python".into(),
        value: python.display().to_string(),
        expected: format!(
            "{why}; expected a Python with torch and numpy (scripts/setup.sh makes one), or --no-reference"
        ),
    }
    };
    let out = Command::new(python)
        .args(["-c", "import numpy, torch; print(torch.__version__)"])
        .output()
        .map_err(|e| bad(format!("cannot run it ({e})")))?;
    if !out.status.success() {
        return Err(bad(format!(
            "cannot import torch and numpy ({})",
            last_line(&out.stderr)
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(super) fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

/// Runs the bundled reference script on the same settings, data files, batches and initial
/// weights; its stderr (one line per width) is passed through.
pub(super) fn run_reference(
    python: &Path,
    handover: &Path,
    s: &Settings,
    device: Device,
    threads: usize,
    files: &[PathBuf; 4],
    order: &Path,
) -> Result<ReferenceOutput> {
    let script = handover.join("bench_torch.py");
    write_bytes(&script, SCRIPT.as_bytes())?;
    let units: Vec<String> = s.units.iter().map(i64::to_string).collect();
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .args(["--units", &units.join(",")])
        .args(["--batch-size", &s.batch_size.to_string()])
        .args(["--warmup", &s.warmup.to_string()])
        .args(["--steps", &s.steps.to_string()])
        .args(["--chunks", &s.chunks.to_string()])
        .args(["--eval-samples", &s.eval_samples.to_string()])
        .args(["--eval-batch", &s.eval_batch.to_string()])
        .args(["--lr", &s.lr.to_string()])
        .args(["--clip", &s.clip_grad_norm.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--device", if device.is_cuda() { "cuda" } else { "cpu" }])
        .arg("--order")
        .arg(order)
        .arg("--init-dir")
        .arg(handover)
        .arg("--files")
        .args(files)
        .stderr(std::process::Stdio::inherit());
    let out = cmd
        .output()
        .with_context(|| format!("could not run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the PyTorch reference (scripts/bench_torch.py) failed ({}); run with --no-reference to skip it",
            out.status
        );
    }
    let parsed: ReferenceOutput = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the PyTorch reference printed no bench JSON (last line: {})",
            last_line(&out.stdout)
        )
    })?;
    for h in &s.units {
        if !parsed.widths.iter().any(|w| w.num_units == *h) {
            bail!("the PyTorch reference did not measure H = {h}");
        }
    }
    Ok(parsed)
}
