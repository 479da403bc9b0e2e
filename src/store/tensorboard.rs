/*!
The TensorBoard folders of a sweep, and who owns them: the layout that `sinks::tensorboard`
writes its event files into.

```text
<out>/<sweep>/tb/
  <label>/events.out.tfevents.*    one run, e.g. `units=0128,seed=0` (cleared when the run
                                   (re)starts; the width zero-padded, `folder_name`, as
                                   TensorBoard sorts runs as text)
  <label>/.rowseq-run-id           the run id owning the folder; a different run with the same
                                   label (not swept, so not in it) gets `<label>,run=<id>`
  <label>/events.out.tfevents.*.hparams-experiment
                                   in one run's folder only: the sweep's hparams experiment
                                   (rewritten by every sweep invocation; kept when that run
                                   restarts)
```

No event file sits in `tb/` itself: TensorBoard would list that folder as a run named `.`. The
experiment lives in the folder of a run of the sweep (the one that already holds it, else the
plan's first), as the HParams dashboard takes the first experiment it finds in any run: there
is only ever one (`experiment_folder`).

Like every folder below `--out`, these are real folders, never links (`create_dir_nofollow`).
*/
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The prefix TensorBoard looks for in the names of event files.
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

/// Ends the name of the event file that holds the sweep's hparams experiment (its run folder's
/// other files are the run's own).
pub const EXPERIMENT_SUFFIX: &str = ".hparams-experiment";

/// Names the run id that owns a TensorBoard run folder (TensorBoard ignores it).
pub const RUN_ID_FILE: &str = ".rowseq-run-id";

/// The folder of run `run_id`: `<tb_root>/<label>`, unless that folder belongs to another run
/// (same label, different config: e.g. two `train` commands that differ in `lr`), then
/// `<tb_root>/<label>,run=<run_id>`.
pub fn run_folder(tb_root: &Path, label: &str, run_id: &str) -> PathBuf {
    let label = &folder_name(label);
    let plain = tb_root.join(label);
    match super::read_text(&plain.join(RUN_ID_FILE)) {
        Ok(owner) if owner.trim() != run_id => tb_root.join(format!("{label},run={run_id}")),
        _ => plain,
    }
}

/// The folder name of a run's label: its width zero-padded to four digits (`units=0008`), so
/// that TensorBoard, which sorts runs as text, lists 8, 16, ..., 256 in order (not 128, 16,
/// ..., 8). The other values are as the label has them.
pub fn folder_name(label: &str) -> String {
    label
        .split(',')
        .map(|part| match part.strip_prefix("units=") {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                format!("units={n:0>4}")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Makes way for a new experiment file and says where it goes: the folder of the run (of
/// `runs`, the sweep's `(label, run id)` in plan order) that already holds an experiment, else
/// of the first run, created and marked as that run's if missing. Every other experiment file
/// below `tb_root` is removed, and so are event files in `tb_root` itself (where earlier
/// versions wrote the experiment), so that the HParams dashboard finds this one only. Call it
/// under the sweep's tables lock: shards write the experiment side by side.
pub fn experiment_folder(tb_root: &Path, runs: &[(&str, &str)]) -> Result<PathBuf> {
    let sweep = sweep_folder(tb_root);
    super::create_dir_nofollow(sweep, tb_root)?;
    anyhow::ensure!(
        !runs.is_empty(),
        "a sweep without runs has no hparams experiment"
    );
    let mut folders: Vec<PathBuf> = runs
        .iter()
        .map(|(label, id)| run_folder(tb_root, label, id))
        .collect();
    let held = |dir: &PathBuf| experiment_files(dir).is_ok_and(|f| !f.is_empty());
    let host = folders.iter().position(held).unwrap_or(0);
    let mut old = event_files(tb_root)?;
    for entry in std::fs::read_dir(tb_root)
        .with_context(|| format!("could not read '{}'", tb_root.display()))?
        .flatten()
    {
        let dir = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            old.extend(experiment_files(&dir)?);
        }
    }
    for file in old {
        std::fs::remove_file(&file)
            .with_context(|| format!("could not remove '{}'", file.display()))?;
    }
    let dir = &folders[host];
    if !dir.exists() {
        super::create_dir_nofollow(sweep, dir)?;
        super::write_atomic(&dir.join(RUN_ID_FILE), runs[host].1.as_bytes())?;
    }
    Ok(folders.swap_remove(host))
}

/// Gives run `run_id` its folder `dir` (from `run_folder`), empty but for the sweep's
/// experiment file if it is there (`experiment_folder`): a run that restarts replaces what an
/// earlier attempt wrote. Refuses a link on the way (in real folders only), and marks the
/// folder as the run's (`RUN_ID_FILE`).
pub fn claim_run_folder(dir: &Path, run_id: &str) -> Result<()> {
    let sweep = sweep_folder(dir.parent().unwrap_or(Path::new(".")));
    super::check_folder(sweep, dir)?;
    if dir.exists() {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("could not read '{}'", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let removed = if is_experiment_file(&path) {
                continue;
            } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("could not clear '{}'", path.display()))?;
        }
    }
    super::create_dir_nofollow(sweep, dir)?;
    super::write_atomic(&dir.join(RUN_ID_FILE), run_id.as_bytes())
}

/// The sweep folder that `tb_root` is in: the root below which no folder may be a link.
fn sweep_folder(tb_root: &Path) -> &Path {
    tb_root.parent().unwrap_or(Path::new("."))
}

/// Whether `path` is named as the sweep's experiment file (`EXPERIMENT_SUFFIX`).
pub fn is_experiment_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.starts_with(EVENT_FILE_PREFIX) && n.ends_with(EXPERIMENT_SUFFIX)
    })
}

/// The experiment files directly in `dir` (none if `dir` is missing).
pub fn experiment_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let files = event_files(dir)?;
    Ok(files
        .into_iter()
        .filter(|p| is_experiment_file(p))
        .collect())
}

/// The event files directly in `dir`.
pub fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("could not read '{}'", dir.display()))?;
    Ok(entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(EVENT_FILE_PREFIX))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_sort_as_numbers_in_folder_names() {
        let mut names: Vec<String> = [8, 16, 32, 64, 128, 256, 1024]
            .iter()
            .map(|h| folder_name(&format!("units={h},seed=0")))
            .collect();
        let in_order = names.clone();
        names.sort();
        assert_eq!(names, in_order);
        assert_eq!(
            folder_name("units=128,cell=gru,seed=2"),
            "units=0128,cell=gru,seed=2"
        );
    }

    #[test]
    fn a_label_taken_by_another_run_gets_the_run_id() {
        let root = tempfile::tempdir().unwrap();
        let mine = run_folder(root.path(), "units=8,seed=0", "aaa");
        assert_eq!(mine, root.path().join("units=0008,seed=0"));
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(mine.join(RUN_ID_FILE), "aaa").unwrap();
        assert_eq!(run_folder(root.path(), "units=8,seed=0", "aaa"), mine);
        assert_eq!(
            run_folder(root.path(), "units=8,seed=0", "bbb"),
            root.path().join("units=0008,seed=0,run=bbb")
        );
    }

    #[test]
    fn a_claimed_folder_is_emptied_and_marked() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("tb").join("units=8,seed=0");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("events.out.tfevents.1.host.2.0"), "old").unwrap();
        claim_run_folder(&dir, "aaa").unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [RUN_ID_FILE]);
        assert_eq!(
            std::fs::read_to_string(dir.join(RUN_ID_FILE)).unwrap(),
            "aaa"
        );
    }

    /// The names of the files in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_experiment_goes_into_a_run_folder_never_the_root() {
        let root = tempfile::tempdir().unwrap();
        let tb = root.path().join("tb");
        std::fs::create_dir_all(&tb).unwrap();
        // Where earlier versions wrote the experiment.
        std::fs::write(tb.join("events.out.tfevents.1.host.2.0"), "old").unwrap();
        let runs = [("units=8,seed=0", "aaa"), ("units=16,seed=0", "bbb")];
        let dir = experiment_folder(&tb, &runs).unwrap();
        assert_eq!(dir, tb.join("units=0008,seed=0"));
        assert_eq!(names(&tb), ["units=0008,seed=0"]);
        assert_eq!(
            std::fs::read_to_string(dir.join(RUN_ID_FILE)).unwrap(),
            "aaa"
        );
    }

    #[test]
    fn the_experiment_stays_in_its_run_and_is_the_only_one() {
        let root = tempfile::tempdir().unwrap();
        let tb = root.path().join("tb");
        let old = format!("{EVENT_FILE_PREFIX}1.host.2.0{EXPERIMENT_SUFFIX}");
        for folder in ["units=0016,seed=0", "units=0032,seed=0"] {
            std::fs::create_dir_all(tb.join(folder)).unwrap();
            std::fs::write(tb.join(folder).join(&old), "old").unwrap();
        }
        // A plan that grew a run in front, and no longer has 32.
        let runs = [("units=8,seed=0", "aaa"), ("units=16,seed=0", "bbb")];
        let dir = experiment_folder(&tb, &runs).unwrap();
        assert_eq!(dir, tb.join("units=0016,seed=0"));
        assert!(experiment_files(&dir).unwrap().is_empty());
        assert!(experiment_files(&tb.join("units=0032,seed=0"))
            .unwrap()
            .is_empty());
        assert!(!tb.join("units=0008,seed=0").exists());
    }

    #[test]
    fn a_claimed_folder_keeps_the_experiment() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("tb").join("units=8,seed=0");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let experiment = format!("{EVENT_FILE_PREFIX}1.host.2.0{EXPERIMENT_SUFFIX}");
        std::fs::write(dir.join(&experiment), "experiment").unwrap();
        std::fs::write(dir.join("events.out.tfevents.1.host.2.1"), "old").unwrap();
        claim_run_folder(&dir, "aaa").unwrap();
        assert_eq!(names(&dir), [RUN_ID_FILE.to_string(), experiment]);
    }
}
