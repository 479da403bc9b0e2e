/*!
`rowseq report`: figures and tables of a sweep, rebuilt from the results on disk only (it never
trains, and never needs the weights).

`render` reads the sweep folder (`sweep.json`, every `<run-id>/result.json` and
`metrics.jsonl`, `failed.json` of runs that failed), summarises runs over seeds, and writes into
the output folder:

```text
accuracy_vs_units.{svg,png}   test (and validation) accuracy against num_units, mean ± std
accuracy_vs_params.{svg,png}  test accuracy against parameter count
params_vs_units.{svg,png}     parameter count against num_units, PyTorch and Keras formulas
learning_curves.{svg,png}     validation accuracy and train loss per epoch, one line per width
cost_vs_units.{svg,png}       training seconds per epoch against num_units, with an H² guide
unrolled_lstm.svg             the network unrolled over its timesteps, shapes on the arrows
summary.{md,tex,csv}          the per-width table
search_keys.{svg,png}         a search's validation score against each drawn key (`search`)
capacity.{svg,png}            random labels memorised, in bits, against parameters (`capacity`)
report.md                     all of the above, with the command, grid, versions, missing runs
```
Regression and forecasting sweeps get their errors instead of accuracies (`errors`).
`rowseq report FILE.json` plots a `rowseq bench` JSON instead (`bench`).
Every file depends on the results only (no dates, paths of this machine or random ids), so
rendering the same results twice gives the same bytes.
*/
pub mod bench;
mod capacity;
mod errors;
mod figures;
mod inputs;
mod report_md;
mod search;
mod summary;
mod table;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Select;

pub use inputs::{Inputs, Missing};

/// Where the report went and what it holds.
pub struct Report {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// Finished runs it summarises.
    pub runs: usize,
    /// Planned runs without a result.
    pub missing: Vec<Missing>,
    /// Finished runs whose `metrics.jsonl` is missing, unreadable or not one record per
    /// epoch of their result (left out of the learning curves).
    pub no_metrics: Vec<String>,
}

/// The width drawn in the unrolled diagram: 128 when the sweep has it, else its widest.
fn diagram_units(inputs: &Inputs) -> Option<i64> {
    let units: Vec<i64> = inputs.results.iter().map(|r| r.config.num_units).collect();
    units
        .iter()
        .copied()
        .find(|&h| h == 128)
        .or_else(|| units.iter().copied().max())
}

/// The configuration drawn in the unrolled diagram: the first result of that width.
fn diagram_config(inputs: &Inputs) -> Option<&crate::config::RunConfig> {
    let h = diagram_units(inputs)?;
    inputs
        .results
        .iter()
        .map(|r| &r.config)
        .find(|c| c.num_units == h)
}

/// The default output folder: `<sweep_dir>/report`.
pub fn default_dir(sweep_dir: &Path) -> PathBuf {
    sweep_dir.join("report")
}

/// Reads the sweep in `sweep_dir` and writes the figures, tables and `report.md` to `out_dir`;
/// `select` overrides the sweep's choice of epoch (its `select` key).
pub fn render(sweep_dir: &Path, out_dir: &Path, select: Option<Select>) -> Result<Report> {
    let inputs = Inputs::load(sweep_dir, select)?;
    // The sweep folder's own `report/` is a real folder, never a link; a folder that --out
    // names is the user's, followed as given.
    if out_dir == default_dir(sweep_dir) {
        crate::store::create_dir_nofollow(sweep_dir, out_dir)?;
        // What a report killed mid-write left behind, in the report's own folder (not in a
        // folder of the user's that --out may name).
        crate::store::remove_temporaries(out_dir)?;
    } else {
        crate::store::output::claim_report_folder(out_dir, "report.md", "# rowseq report")?;
    }
    let mut files = match inputs.shape.task.is_numeric() {
        true => errors::render_all(&inputs, out_dir)?,
        false => figures::render_all(&inputs, out_dir)?,
    };
    if let Some(cfg) = diagram_config(&inputs) {
        let batch = inputs.results.first().map_or(128, |r| {
            r.effective().batch_size.fixed().unwrap_or(128) as i64
        });
        let shape = &inputs.shape;
        let arch = crate::model::Arch::of(cfg, shape.input, shape.classes(), shape.timesteps);
        let e = crate::explain::explain(&arch, batch, shape.timesteps);
        let e = if shape.images {
            e
        } else {
            e.in_sequence_words()
        };
        let path = out_dir.join("unrolled_lstm.svg");
        crate::store::write_atomic(&path, crate::explain::diagram_svg(&e).as_bytes())?;
        files.push(path);
    }
    files.extend(search::render(&inputs, out_dir)?);
    files.extend(capacity::render(&inputs, out_dir)?);
    let summary = summary::table(&inputs);
    files.extend(table::write_all(&summary, out_dir)?);
    if let Some(bytes) = report_md::confusion_csv(&inputs)? {
        let path = out_dir.join(report_md::CONFUSION);
        crate::store::write_atomic(&path, &bytes)?;
        files.push(path);
    }
    files.push(report_md::write(&inputs, &summary, out_dir)?);
    Ok(Report {
        dir: out_dir.to_path_buf(),
        files,
        runs: inputs.results.len(),
        missing: inputs.missing,
        no_metrics: inputs.no_metrics,
    })
}
