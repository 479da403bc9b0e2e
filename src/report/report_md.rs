/*!
`report.md`, which puts figures and table together with where the results came from: the
command, the grid, the versions and device, and which planned runs are missing; for
classification, the accuracy of each class and the confusion matrices (also `confusion.csv`).
The summary
table is the one `summary` built, in Markdown, with links to its other formats.
*/
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::inputs::{Inputs, Row};
use super::table::{md_cell, Markdown, Render, Table, OUTPUTS};
use crate::records::Confusion;
use crate::store::write_atomic;

pub const REPORT: &str = "report.md";

/// The final test accuracy of every class per width, when the results recorded it.
fn per_class_markdown(inputs: &Inputs) -> String {
    let rows: Vec<&Row> = inputs
        .finished_rows()
        .filter(|r| !r.per_class.is_empty())
        .collect();
    let names = &inputs.shape.class_names;
    if rows.is_empty() || rows.iter().any(|r| r.per_class.len() != names.len()) {
        return String::new();
    }
    let mut out = String::from("## Test accuracy per class\n\n");
    let _ = writeln!(
        out,
        "Final-epoch test accuracy (%) of each class, pooled over the seeds of each width{}.\n",
        if inputs.variants.len() > 1 {
            "; columns are `variant: units`"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "| class | {} |",
        rows.iter()
            .map(|r| row_name(inputs, r))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|{}", "--:|".repeat(rows.len()));
    for (c, name) in names.iter().enumerate() {
        let cells: Vec<String> = rows
            .iter()
            .map(|r| {
                let a = r.per_class[c];
                if a.is_finite() {
                    format!("{:.2}", 100.0 * a)
                } else {
                    "–".into()
                }
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", md_cell(name), cells.join(" | "));
    }
    out.push('\n');
    out
}

/// The confusion matrices' file, every row's (report.md shows the small ones).
pub const CONFUSION: &str = "confusion.csv";
/// The most classes whose confusion matrix report.md shows as a table.
const CONFUSION_TABLE_CLASSES: usize = 12;

/// A row's name in the report's sections: `H = 128`, or `variant: 128`.
fn row_name(inputs: &Inputs, r: &Row) -> String {
    let v = &inputs.variants[r.variant];
    if v.is_empty() {
        format!("H = {}", r.num_units)
    } else {
        format!("{v}: {}", r.num_units)
    }
}

/// The confusion matrix of each row's ensemble of seeds, where its runs recorded their test
/// probabilities: a table for up to `CONFUSION_TABLE_CLASSES` classes, every one in
/// `CONFUSION`.
fn confusion_markdown(inputs: &Inputs) -> String {
    let rows: Vec<(&Row, &Confusion)> = inputs
        .finished_rows()
        .filter_map(|r| r.confusion.as_ref().map(|c| (r, c)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Confusion matrices

",
    );
    let _ = writeln!(
        out,
        "Test examples of each true class (rows) by the class predicted (columns), for the \
         ensemble of each row's seeds (the argmax of their summed probabilities; one seed: its \
         own run). Every matrix is also in [{CONFUSION}]({CONFUSION}).\n"
    );
    for (r, c) in rows {
        let name = md_cell(&row_name(inputs, r));
        let k = c.class_names.len();
        if k > CONFUSION_TABLE_CLASSES {
            let _ = writeln!(
                out,
                "**{name}**: {k} classes, in [{CONFUSION}]({CONFUSION}).\n"
            );
            continue;
        }
        let _ = writeln!(out, "**{name}**\n\n{}", c.markdown());
    }
    out
}

/// `CONFUSION`'s bytes: `config,num_units,true,predicted,count`, every cell of every row's
/// matrix; None when no row has one.
pub fn confusion_csv(inputs: &Inputs) -> Result<Option<Vec<u8>>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut any = false;
    w.write_record(["config", "num_units", "true", "predicted", "count"])?;
    for r in inputs.finished_rows() {
        let Some(c) = &r.confusion else { continue };
        any = true;
        for (t, counts) in c.counts.iter().enumerate() {
            for (p, n) in counts.iter().enumerate() {
                w.write_record([
                    inputs.variants[r.variant].as_str(),
                    &r.num_units.to_string(),
                    &c.class_names[t],
                    &c.class_names[p],
                    &n.to_string(),
                ])?;
            }
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(w.into_inner().map_err(|e| e.into_error())?))
}

/// Writes `report.md`, with `table` as its summary.
pub fn write(inputs: &Inputs, table: &Table, dir: &Path) -> Result<PathBuf> {
    let mut out = intro(inputs);
    out.push_str("## Summary\n\n");
    out.push_str(&Markdown.render(table)?);
    let links: Vec<String> = OUTPUTS
        .iter()
        .map(|o| format!("[{0}]({0}){1}", o.file, o.note))
        .collect();
    let _ = writeln!(out, "\nThe same table: {}.\n", links.join(", "));
    out.push_str(&super::search::markdown::section(inputs));
    out.push_str(&super::capacity::section(inputs));
    if !inputs.shape.task.is_numeric() {
        out.push_str(&per_class_markdown(inputs));
        out.push_str(&confusion_markdown(inputs));
    }
    out.push_str(&figures(inputs));
    out.push_str(&diagram(inputs));
    out.push_str(&provenance(inputs));
    out.push_str(&missing(inputs));
    let path = dir.join(REPORT);
    write_atomic(&path, out.as_bytes())?;
    Ok(path)
}

/// The title, and what the numbers are of.
fn intro(inputs: &Inputs) -> String {
    let mut out = String::new();
    let numeric = inputs.shape.task.is_numeric();
    let _ = writeln!(out, "# rowseq report: sweep `{}`\n", inputs.name);
    let _ = writeln!(
        out,
        "Rebuilt by `rowseq report` (rowseq {}) from the results on disk only: {} finished \
         run{} over {} {}{}. {} are those of the {} (no selection on the \
         test set); ± is the sample standard deviation over seeds.\n",
        env!("CARGO_PKG_VERSION"),
        inputs.results.len(),
        if inputs.results.len() == 1 { "" } else { "s" },
        inputs.finished_rows().count(),
        if inputs.variants.len() > 1 {
            "configuration"
        } else {
            "width"
        },
        if inputs.finished_rows().count() == 1 {
            ""
        } else {
            "s"
        },
        match (inputs.shape.task, numeric) {
            (crate::config::Task::Forecast, _) => {
                "Forecast errors (in the target's units; MASE over the in-sample \
                 seasonal-naive error)"
            }
            (_, true) => "Errors (in the target's units)",
            _ => "Accuracies",
        },
        inputs.select.caption(),
    );
    out
}

/// The figures with their captions.
fn figures(inputs: &Inputs) -> String {
    let mut out = String::new();
    out.push_str("## Figures\n\n");
    let captions = match inputs.shape.task.is_numeric() {
        true => super::errors::captions(inputs),
        false => super::figures::captions(inputs),
    };
    for (name, caption) in captions {
        let _ = writeln!(
            out,
            "![{name}]({name}.png)\n\n{caption} ([SVG]({name}.svg))\n"
        );
        // Forecasts of several steps: how the error grows with the step ahead.
        if name == "mase_by_step" {
            if let Some(table) = super::errors::mase_by_step(inputs) {
                let _ = writeln!(out, "{table}");
            }
        }
    }
    out
}

/// The unrolled network, with the `rowseq explain` flags that print it.
fn diagram(inputs: &Inputs) -> String {
    let mut out = String::new();
    if let Some(cfg) = super::diagram_config(inputs) {
        let h = cfg.num_units;
        let flags = explain_flags(cfg);
        let t = inputs.shape.timesteps;
        let _ = writeln!(
            out,
            "![unrolled_lstm](unrolled_lstm.svg)\n\nThe network unrolled over its {t} timesteps for \
             H = {h}: one cell, the same weights at every step, H units wide; the shapes on the \
             arrows are those of a training batch (`rowseq explain {flags}` prints them).\n"
        );
    }
    out
}

/// The `rowseq explain` flags that build `cfg`'s model on its data, as written: the width, the
/// data set and task, and every key that differs from what those imply (their series
/// defaults), in key order; never the seed nor `refit`, which change no shape.
fn explain_flags(cfg: &crate::config::RunConfig) -> String {
    use crate::config::{RunConfig, RUN_KEYS};
    let base = RunConfig {
        dataset: cfg.dataset.clone(),
        task: cfg.task,
        ..RunConfig::default()
    }
    .with_series_defaults(|_| false);
    let plain = RunConfig::default();
    let mut flags = format!("--num-units {}", cfg.num_units);
    for &k in RUN_KEYS {
        let differs = match k {
            "seed" | "num_units" | "refit" => false,
            "dataset" | "task" => cfg.value(k) != plain.value(k),
            _ => cfg.value(k) != base.value(k),
        };
        if !differs {
            continue;
        }
        let flag = format!("--{}", k.replace('_', "-"));
        match cfg.value(k) {
            serde_json::Value::Bool(true) => {
                let _ = write!(flags, " {flag}");
            }
            _ => {
                let _ = write!(flags, " {flag} {}", crate::shell::quote(&cfg.value_text(k)));
            }
        }
    }
    flags
}

/// The command and grid of the sweep, and the versions and machines of its results.
fn provenance(inputs: &Inputs) -> String {
    let mut out = String::new();
    out.push_str("## Provenance\n\n");
    match &inputs.record {
        Some(r) => {
            let _ = writeln!(
                out,
                "Command that ran the sweep:\n\n```sh\n{}\n```\n",
                r.command
            );
            out.push_str("Grid (`sweep.json`; the runs are its product):\n\n```toml\n");
            let _ = writeln!(out, "name = {:?}", r.name);
            for (k, vs) in &r.grid {
                let vals: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
                if vals.len() == 1 {
                    let _ = writeln!(out, "{k} = {}", vals[0]);
                } else {
                    let _ = writeln!(out, "{k} = [{}]", vals.join(", "));
                }
            }
            out.push_str("```\n\n");
        }
        None => out.push_str("No `sweep.json`: the command and grid are unknown.\n\n"),
    }
    // Versions and machines, each with the number of runs it produced.
    let mut envs: BTreeMap<String, usize> = BTreeMap::new();
    for r in &inputs.results {
        let e = &r.env;
        let key = format!(
            "| {} | {} | {} | {} | {} | {} |",
            e.rowseq,
            e.tch,
            e.libtorch,
            e.device,
            e.threads,
            e.git_commit.as_deref().unwrap_or("–")
        );
        *envs.entry(key).or_default() += 1;
    }
    out.push_str("Versions and machines of the results:\n\n");
    out.push_str("| rowseq | tch | libtorch | device | threads | commit | runs |\n");
    out.push_str("|---|---|---|---|--:|---|--:|\n");
    for (k, n) in &envs {
        let _ = writeln!(out, "{k} {n} |");
    }
    out.push('\n');
    out
}

/// The planned runs without a result, and those whose metrics could not be read.
fn missing(inputs: &Inputs) -> String {
    let mut out = String::new();
    out.push_str("## Missing or failed runs\n\n");
    if inputs.missing.is_empty() && inputs.no_metrics.is_empty() {
        out.push_str("None: every planned run has a result.\n");
    } else {
        if !inputs.missing.is_empty() {
            let _ = writeln!(
                out,
                "{} planned run{} without a result (left out of the figures and the means; the \
                 table's seeds column shows finished/planned):\n",
                inputs.missing.len(),
                if inputs.missing.len() == 1 { "" } else { "s" }
            );
            out.push_str("| run id | run | status |\n|---|---|---|\n");
            for m in &inputs.missing {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    m.run_id,
                    md_cell(&m.label),
                    md_cell(&m.status)
                );
            }
            out.push('\n');
        }
        if !inputs.no_metrics.is_empty() {
            let _ = writeln!(
                out,
                "Runs whose `metrics.jsonl` is missing, unreadable or not one record per epoch (left out of the learning curves): {}.",
                inputs
                    .no_metrics
                    .iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out
}
