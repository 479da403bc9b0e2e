/*!
The files a command writes outside a sweep folder (`predict --out`, `explain --svg`, a report's
`--out` folder), checked
before anything is read or written, so that no output replaces what the user did not ask to
lose:
- never a file of a run folder (any folder holding a `config.json` beside a run's records), nor
  the run folder the command reads;
- never an input of the command (its data files, compared as the same file: the same device and
  inode, links and `..` resolved), nor the folder an input lies in when it is the output itself;
- an existing file only when it is one the command wrote before (`ours` recognises it by its
  first bytes), or with `--force`.

A path that does not exist yet is resolved through its parent folder.
*/
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{CHECKPOINT, CONFIG, METRICS, RESULT, WEIGHTS};
use crate::config::dataset::Spec;
use crate::error::UserError;

/// The files a dataset value names (those that exist or not): what a command reading it must
/// never write over.
pub fn dataset_files(dataset: &str) -> Vec<PathBuf> {
    match Spec::parse(dataset) {
        Ok(spec @ (Spec::Csv { .. } | Spec::Ts { .. } | Spec::Npz { .. })) => {
            let (train, test) = spec.files().expect("a series set");
            vec![train, test]
        }
        Ok(Spec::Series(path)) => vec![path],
        Ok(Spec::Idx(dir)) => vec![dir],
        Ok(_) => Vec::new(),
        // Not a dataset value: a file given by its path (predict's new data).
        Err(_) => vec![PathBuf::from(dataset)],
    }
}

/// Whether `dir` is a run folder: a `config.json` beside one of a run's records.
fn is_run_folder(dir: &Path) -> bool {
    dir.join(CONFIG).is_file()
        && [METRICS, RESULT, WEIGHTS, CHECKPOINT]
            .iter()
            .any(|f| dir.join(f).exists())
}

/// `path` with links and `..` resolved: itself if it exists, else its resolved parent joined
/// with its name (None when neither resolves).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(name))
}

/// Whether `a` and `b` are one file (same device and inode), read through links.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Checks that `out` may be written by `flag`: not in a run folder (`run`, the folder the
/// command reads, included), not one of `inputs`, and, if it exists, a regular file that
/// `ours` recognises from its first bytes, or `force`. The error names the path and the fix.
pub fn check_output(
    flag: &str,
    out: &Path,
    run: Option<&Path>,
    inputs: &[PathBuf],
    ours: fn(&[u8]) -> bool,
    what: &str,
    force: bool,
) -> Result<(), UserError> {
    let refuse = |message: String| Err(UserError::store(out, format!("{flag}: {message}")));
    let Some(target) = resolved(out) else {
        // Its folder does not exist: writing says so.
        return Ok(());
    };
    let run = run.and_then(|r| r.canonicalize().ok());
    if let Some(run) = run.as_ref().filter(|r| target.starts_with(r)) {
        return refuse(format!(
            "inside the run folder {}: an output never replaces a run's files; choose a path \
             outside it",
            run.display()
        ));
    }
    if let Some(dir) = target.ancestors().skip(1).find(|a| is_run_folder(a)) {
        return refuse(format!(
            "inside the run folder {}: an output never replaces a run's files; choose a path \
             outside it",
            dir.display()
        ));
    }
    for input in inputs {
        let is_input = same_file(out, input) || resolved(input).is_some_and(|i| i == target);
        if is_input {
            return refuse(format!(
                "is an input of this command ({}): an output never replaces its inputs; choose \
                 another path",
                input.display()
            ));
        }
    }
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !meta.is_file() {
        // The atomic writer's words for the same refusal.
        return Err(UserError::store(
            out,
            format!("{} (for {what})", super::not_a_file(&meta)),
        ));
    }
    if force {
        return Ok(());
    }
    let mut head = Vec::new();
    let read = std::fs::File::open(out).and_then(|f| f.take(4096).read_to_end(&mut head));
    if read.is_err() || !ours(&head) {
        return refuse(format!(
            "exists and is not {what} that rowseq wrote: pass --force to overwrite it, or \
             choose another path"
        ));
    }
    Ok(())
}

/// A folder that a report writes into at the user's word (`report --out`, a bench report):
/// used when new, empty, or holding a report of rowseq's (its `file` opens with `header`);
/// refused when it holds anything else, since the report would write over whatever of the
/// user's shares its files' names. Once claimed, `file` exists from the start (a stub that the
/// report replaces at its end), so that a report killed midway leaves a folder its rerun uses.
pub fn claim_report_folder(dir: &Path, file: &str, header: &str) -> anyhow::Result<()> {
    let holds_files = std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some());
    let path = dir.join(file);
    let ours = std::fs::read(&path).is_ok_and(|t| t.starts_with(header.as_bytes()));
    if holds_files && !ours {
        return Err(UserError::store(
            dir,
            format!(
                "--out: holds files and no report that rowseq wrote (a report writes {file} \
                 and its figures there): choose a new or empty folder"
            ),
        )
        .into());
    }
    super::create_dir(dir, "report folder")?;
    if !ours {
        super::write_atomic(&path, format!("{header}\n").as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_claims_a_new_empty_or_own_folder_and_never_one_of_the_users() {
        let t = tempfile::tempdir().unwrap();
        let claim = |d: &Path| claim_report_folder(d, "report.md", "# rowseq report");
        // New: made, with the stub that marks it a report's from the start.
        let new = t.path().join("new");
        claim(&new).unwrap();
        assert_eq!(
            std::fs::read(new.join("report.md")).unwrap(),
            b"# rowseq report\n"
        );
        // A report killed midway (the stub and a figure): its rerun uses the folder.
        std::fs::write(new.join("a.svg"), "<svg/>").unwrap();
        claim(&new).unwrap();
        // Empty: used.
        let empty = t.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        claim(&empty).unwrap();
        // The user's: refused, and left as it was.
        let mine = t.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("summary.csv"), "mine").unwrap();
        let e = claim(&mine).unwrap_err().to_string();
        assert!(
            e.contains("holds files and no report that rowseq wrote"),
            "{e}"
        );
        assert!(!mine.join("report.md").exists());
        assert_eq!(std::fs::read(mine.join("summary.csv")).unwrap(), b"mine");
    }

    fn csv(head: &[u8]) -> bool {
        head.starts_with(b"index,")
    }

    #[test]
    fn outputs_never_replace_inputs_run_files_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let run = d.join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join(CONFIG), "{}").unwrap();
        std::fs::write(run.join(WEIGHTS), "w").unwrap();
        std::fs::write(d.join("data.csv"), "label,t0\n").unwrap();
        std::fs::write(d.join("old.csv"), "index,class,predicted\n").unwrap();
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        let inputs = [d.join("data.csv")];
        let check = |out: &Path, force| {
            check_output("--out", out, None, &inputs, csv, "a predictions CSV", force)
                .map_err(|e| e.to_string())
        };
        // Run files, whether the run is named or not, and new files inside a run folder.
        for out in [run.join(WEIGHTS), run.join("new.csv"), run.join("../run/x")] {
            let e = check(&out, true).unwrap_err();
            assert!(e.contains("inside the run folder"), "{e}");
        }
        // The input, by another spelling of its path too.
        let e = check(&d.join("run/../data.csv"), true).unwrap_err();
        assert!(e.contains("is an input of this command"), "{e}");
        // Another file: only with --force; a previous predictions file and a new path: yes.
        let e = check(&d.join("notes.txt"), false).unwrap_err();
        assert!(e.contains("pass --force"), "{e}");
        check(&d.join("notes.txt"), true).unwrap();
        check(&d.join("old.csv"), false).unwrap();
        check(&d.join("new.csv"), false).unwrap();
        // A folder is never a file to write.
        let e = check(d, true).unwrap_err();
        assert!(e.contains("is a folder: expected a file's path"), "{e}");
    }
}
