/*!
The TensorBoard folders of a sweep, and who owns them: the layout that `sinks::tensorboard`
writes its event files into.

```text
<out>/<sweep>/tb/
  events.out.tfevents.*            the hparams experiment (rewritten by every sweep invocation)
  <label>/events.out.tfevents.*    one run, e.g. `units=0128,seed=0` (cleared when the run
                                   (re)starts; the width zero-padded, `folder_name`, as
                                   TensorBoard sorts runs as text)
  <label>/.rowseq-run-id           the run id owning the folder; a different run with the same
                                   label (not swept, so not in it) gets `<label>,run=<id>`
```

Like every folder below `--out`, these are real folders, never links (`create_dir_nofollow`).
*/
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The prefix TensorBoard looks for in the names of event files.
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

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

/// Makes `tb_root` ready for a new experiment file: created if missing, the event files of an
/// earlier one removed (the run folders below it are left alone).
pub fn clear_experiment(tb_root: &Path) -> Result<()> {
    super::create_dir_nofollow(sweep_folder(tb_root), tb_root)?;
    for old in event_files(tb_root)? {
        std::fs::remove_file(&old)
            .with_context(|| format!("could not remove '{}'", old.display()))?;
    }
    Ok(())
}

/// Gives run `run_id` its folder `dir` (from `run_folder`), empty: a run that restarts
/// replaces what an earlier attempt wrote. Refuses a link on the way (in real folders only),
/// and marks the folder as the run's (`RUN_ID_FILE`).
pub fn claim_run_folder(dir: &Path, run_id: &str) -> Result<()> {
    let sweep = sweep_folder(dir.parent().unwrap_or(Path::new(".")));
    super::check_folder(sweep, dir)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("could not clear '{}'", dir.display()))?;
    }
    super::create_dir_nofollow(sweep, dir)?;
    super::write_atomic(&dir.join(RUN_ID_FILE), run_id.as_bytes())
}

/// The sweep folder that `tb_root` is in: the root below which no folder may be a link.
fn sweep_folder(tb_root: &Path) -> &Path {
    tb_root.parent().unwrap_or(Path::new("."))
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
}
