/*!
The committed results under `paper/` are the contract between running and reporting: each
sweep folder (`paper/<sweep>/`, with its `sweep.json`) and each bench record with a figure
folder beside it (`paper/perf/<name>.json` and `paper/perf/<name>/`) must re-render, with the
binary under test, to exactly the committed files, byte for byte. A change that moves one
pixel or one digit of a committed figure or table fails here, not later.
*/
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::rowseq;

/// Every file under `dir`, by its path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Renders `source` (a sweep folder or a bench record) into a fresh folder and compares it
/// with `committed`; None if equal, else what differs.
fn rerender(source: &Path, committed: &Path) -> Option<String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let run = rowseq()
        .arg("report")
        .arg(source)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    if !run.status.success() {
        return Some(format!(
            "{}: report failed: {}",
            source.display(),
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let (new, old) = (files(&out), files(committed));
    let differ: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| k.display().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (!differ.is_empty()).then(|| format!("{}: {differ:?} differ", committed.display()))
}

#[test]
fn every_paper_folder_rerenders_byte_for_byte() {
    let paper = Path::new(env!("CARGO_MANIFEST_DIR")).join("paper");
    let mut jobs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for e in std::fs::read_dir(&paper).unwrap().flatten() {
        let dir = e.path();
        if dir.join("sweep.json").is_file() {
            jobs.push((dir.clone(), dir.join("report")));
        }
    }
    for e in std::fs::read_dir(paper.join("perf")).unwrap().flatten() {
        let json = e.path();
        let figures = json.with_extension("");
        if json.extension().is_some_and(|x| x == "json") && figures.is_dir() {
            jobs.push((json, figures));
        }
    }
    jobs.sort();
    assert!(jobs.len() >= 12, "{jobs:?}");
    let failures: Vec<String> = jobs.iter().filter_map(|(s, c)| rerender(s, c)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each committed report's `rowseq explain ...` command, as written.
fn explain_commands() -> Vec<(PathBuf, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join("paper")).unwrap().flatten() {
        let report = e.path().join("report/report.md");
        let Ok(text) = std::fs::read_to_string(&report) else {
            continue;
        };
        for part in text.split("`rowseq explain ").skip(1) {
            let command = part.split('`').next().unwrap();
            out.push((
                report.clone(),
                command.split(' ').map(String::from).collect(),
            ));
        }
    }
    out
}

#[test]
fn every_command_a_report_suggests_runs_as_written() {
    // report.md tells its reader which `rowseq explain` prints the drawn network: from the
    // repository root, where the sweeps read their data, it must work as it is written.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commands = explain_commands();
    assert!(commands.len() >= 6, "{commands:?}");
    for (report, args) in commands {
        let run = rowseq()
            .current_dir(root)
            .arg("explain")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}: `rowseq explain {}` failed: {}",
            report.display(),
            args.join(" "),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
