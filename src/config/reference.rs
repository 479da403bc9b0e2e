/*!
The config reference as Markdown, made from the key table (`keys.rs`) alone: each key's doc
comment, what it accepts, where it applies, and its default for image data and for each kind
of series task (`RunConfig::with_series_defaults`). The book's `docs/src/reference/config.md`
is this text; a test fails when the two differ, so the reference cannot drift from the code
(`scripts/docs.sh` rewrites it; `cli::reference` holds the test).
*/
use super::keys::{RunConfig, Scope, KEYS};
use super::values::Task;

/// The data a default is shown for: image sets (`RunConfig::default`) and the three series tasks.
fn series_defaults() -> [(&'static str, RunConfig); 3] {
    let series = |dataset: &str, task: Task| {
        RunConfig {
            dataset: dataset.into(),
            task,
            ..RunConfig::default()
        }
        .with_series_defaults(|_| false)
    };
    [
        ("classify", series("ts:DIR/NAME", Task::Classify)),
        ("regress", series("ts:DIR/NAME", Task::Regress)),
        ("forecast", series("csv:SERIES.csv", Task::Forecast)),
    ]
}

/// A value as the reference shows it: TOML syntax, in code.
fn shown(cfg: &RunConfig, key: &str) -> String {
    format!("`{}`", cfg.toml_value(key))
}

/// The series default of `key` where it differs from the image default: one value for every
/// series task, or the tasks that differ, each with its value.
fn series_default(key: &str, image: &str) -> String {
    if key == "dataset" || key == "task" {
        return String::new(); // they say which data and task; the defaults are per data
    }
    let all = series_defaults().map(|(task, cfg)| (task, shown(&cfg, key)));
    let differ: Vec<_> = all.iter().filter(|(_, v)| v != image).collect();
    match differ.as_slice() {
        [] => String::new(),
        d if d.len() == all.len() && d.iter().all(|(_, v)| *v == d[0].1) => d[0].1.clone(),
        d => d
            .iter()
            .map(|(task, v)| format!("{task}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn scope_text(scope: Scope) -> &'static str {
    match scope {
        Scope::Any => "all data",
        Scope::Csv => "CSV data",
        Scope::LongCsv => "long CSV data",
        Scope::Panel => "long CSV data and forecasting",
        Scope::Forecast => "forecasting",
    }
}

/// One table cell: the lines of a doc comment as one paragraph, with `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The whole reference page.
pub fn markdown() -> String {
    let mut out = String::from(
        "<!-- Generated from src/config/keys.rs by src/config/reference.rs: do not edit. \
         scripts/docs.sh rewrites it. -->\n\
         # Config keys\n\n\
         Every key of a run, in the order of the grid (the first varies slowest). A sweep file \
         sets any of them, as one value or a list; `--set KEY=VALUE` and `train --KEY VALUE` \
         set them from the command line. Besides these, a sweep file may set `name` (its \
         folder under `--out`) and `select` (`\"last\"` or `\"best_val\"`: which epoch the \
         tables show), and a search draws its runs instead of taking every combination: \
         `method` (`\"grid\"`, `\"random\"` or `\"sobol\"`), `trials` and `search_seed`, with \
         ranges such as `lr = { log_uniform = [1e-4, 1e-2] }` \
         ([Sweeps that search](../tutorials/sweeps.md#searching-random-and-sobol-trials)); \
         `early_stop = \"asha\"` (with `grace_period`, default 1, and `reduction_factor`, \
         default 3) stops the weaker runs at rungs ([Successive \
         halving](../tutorials/sweeps.md#successive-halving-stopping-the-weaker-runs-early)). \
         How the `\"auto\"` values are chosen: [Automatic values](auto.md).\n\n\
         | key | default | series default | applies to | meaning | accepts |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    let image = RunConfig::default();
    for key in KEYS {
        let default = shown(&image, key.name);
        out += &format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            key.name,
            cell(&default),
            cell(&series_default(key.name, &default)),
            scope_text(key.scope),
            cell(key.doc),
            cell(key.expected),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reference_has_every_key_and_its_series_defaults() {
        let md = markdown();
        for key in KEYS {
            assert!(md.contains(&format!("| `{}` |", key.name)), "{}", key.name);
        }
        // Series data choose their epochs from the data; forecasts alone read windows
        // relative to their last value.
        assert!(md.contains("| `epochs` | `12` | `\"auto\"` |"), "{md}");
        assert!(md.contains("forecast: `\"last\"`"), "{md}");
    }
}
