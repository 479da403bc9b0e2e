/*!
A test that every command shown in the README and the book still works as written: each
`rowseq ...` or `cargo run --release -- ...` line of a `sh` code block is parsed by the real
command line, its run flags are checked as `train` checks them, and a sweep file it names is
loaded as `sweep` loads it. A renamed flag, a removed config file or a value out of range in
the docs fails here. (Commands that train are run for real by the integration tests; the
PyTorch snippet by `tests/integration/` with the loader.)
*/
#![cfg(test)]

use std::path::{Path, PathBuf};

use clap::Parser;

use super::{Cli, Command};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// README.md and every page of the book, except the pages made from the code.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut dirs = vec![Path::new(ROOT).join("docs/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The command lines of a document's `sh` blocks, continuation lines joined, comments cut.
fn shell_lines(text: &str) -> Vec<String> {
    let (mut lines, mut in_sh, mut pending) = (Vec::new(), false, String::new());
    for line in text.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            in_sh = !in_sh && lang.trim() == "sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = line.split(" # ").next().unwrap_or_default().trim_end();
        match code.strip_suffix('\\') {
            Some(head) => pending += head,
            None => {
                lines.push(std::mem::take(&mut pending) + code);
            }
        }
    }
    lines
}

/// Words as a POSIX shell splits them (quotes, no expansion; enough for the docs).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, any) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// The rowseq command of a shell line: its arguments after `rowseq` or `cargo run ... --`.
fn rowseq_args(line: &str) -> Option<Vec<String>> {
    let line = line.rsplit("&& ").next().unwrap_or(line).trim();
    let w = words(line);
    match w.first().map(String::as_str) {
        Some("rowseq") => Some(w),
        Some("cargo") if w.get(1).is_some_and(|s| s == "run") => {
            let at = w.iter().position(|s| s == "--")?;
            Some(
                std::iter::once("rowseq".to_string())
                    .chain(w[at + 1..].iter().cloned())
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Checks one documented command: parsed, its run flags in range, its sweep file loaded.
fn check(args: &[String]) -> Result<(), String> {
    if args.len() == 2 && args[1] == "--help" {
        return Ok(());
    }
    let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    let in_root = |p: &Path| Path::new(ROOT).join(p);
    match &cli.command {
        Command::Train(t) => t.checked_sweep().map(drop).map_err(|e| format!("{e:#}")),
        Command::Sweep(s) => super::settings::load_sweep(&in_root(&s.config), &s.overrides)
            .map(drop)
            .map_err(|e| format!("{e:#}")),
        _ => Ok(()),
    }
}

#[test]
fn every_documented_command_parses_and_its_config_loads() {
    let mut seen = 0;
    let mut bad = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for line in shell_lines(&text) {
            let Some(args) = rowseq_args(&line) else {
                continue;
            };
            seen += 1;
            if let Err(e) = check(&args) {
                bad.push(format!("{}: `{line}`: {e}", doc.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "documented commands that fail:\n{}",
        bad.join("\n")
    );
    assert!(
        seen >= 20,
        "only {seen} documented commands found: is the extraction broken?"
    );
}

#[test]
fn every_example_in_the_help_parses() {
    use clap::CommandFactory;
    let root = Cli::command();
    let helps = std::iter::once(&root)
        .chain(root.get_subcommands())
        .filter_map(|c| c.get_after_help().map(|h| h.to_string()));
    let mut seen = 0;
    for help in helps {
        for line in help
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("rowseq "))
        {
            // An example, then its description after a run of spaces.
            let example = line.split("   ").next().unwrap_or(line);
            let args = rowseq_args(example).unwrap();
            seen += 1;
            assert!(check(&args).is_ok(), "`{example}`: {:?}", check(&args));
        }
    }
    assert!(seen >= 15, "only {seen} examples found");
}

#[test]
fn the_guide_names_no_commit_or_machine() {
    // Measurement history, with its machines and commits, belongs to the performance chapter
    // and paper/perf/README.md; the README and the tutorials say what a user gets.
    let machine = ["VM", "EPYC", "Zen", "Xeon"];
    for doc in documents()
        .iter()
        .filter(|d| !d.ends_with("performance.md"))
    {
        let text = std::fs::read_to_string(doc).unwrap();
        for (n, line) in text.lines().enumerate() {
            let hash = line.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                (7..=40).contains(&w.len())
                    && w.chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                    && w.chars().any(|c| c.is_ascii_digit())
                    && w.chars().any(|c| c.is_ascii_alphabetic())
            });
            let words: Vec<&str> = line.split(|c: char| !c.is_ascii_alphanumeric()).collect();
            let named = machine.iter().find(|m| words.contains(m));
            assert!(
                !hash && named.is_none(),
                "{}:{}: a commit hash or machine name ({named:?}) in the guide: {line}",
                doc.display(),
                n + 1
            );
        }
    }
}

#[test]
fn the_extraction_reads_what_a_shell_would() {
    let doc = "```sh\nrowseq train --dataset ts:a/b \\\n    --seed 1   # a comment\n```\n\
               ```text\nrowseq not-a-command\n```\n";
    let lines = shell_lines(doc);
    assert_eq!(lines, ["rowseq train --dataset ts:a/b     --seed 1"]);
    assert_eq!(
        rowseq_args("scripts/setup.sh && cargo run --release -- sweep 'a b.toml'").unwrap(),
        ["rowseq", "sweep", "a b.toml"]
    );
    let bad = [
        "rowseq".to_string(),
        "train".into(),
        "--num-units".into(),
        "0".into(),
    ];
    assert!(check(&bad).is_err(), "a value out of range fails");
}
