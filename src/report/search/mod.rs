/*!
What a searcher wants to see, for a sweep whose record has a search (`method = "random"` or
`"sobol"`): the trials ranked by validation score (`summary::rank_by_validation`, test scores
never choose), the validation score against each drawn key (`search_keys.{svg,png}`, `figure`),
and how much of the score each key explains alone (η², `importance`), in a section of
`report.md`. Grid sweeps get none of it, so their reports stay as they were.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::inputs::Inputs;
use crate::config::{Range, Search, Select, Task};
use crate::records::SweepRecord;
use crate::summary::{group, rank_by_validation, Group, Stat};

mod figure;
mod importance;
pub mod markdown;

/// The figure's file stem.
pub const FIGURE: &str = "search_keys";
/// The most trials the ranked table shows.
const TOP: usize = 10;

/// How a key's values are placed along its panel's x axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    /// A log_uniform or int_log range.
    Log,
    /// A uniform or int range.
    Linear,
    /// A list: its values, evenly spaced, in the order written.
    Categories(Vec<String>),
}

/// One drawn key: its scale, each trial's value (a category's index for lists), and η².
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub scale: Scale,
    /// Per trial (in `Trials::groups` order); NaN where the value is not a number.
    pub values: Vec<f64>,
    pub importance: Option<f64>,
}

/// A search's trials, ranked, and its drawn keys.
pub struct Trials<'a> {
    pub search: &'a Search,
    pub record: &'a SweepRecord,
    pub task: Task,
    /// One per trial (a configuration over its seeds), best validation score first.
    pub groups: Vec<Group>,
    pub keys: Vec<Key>,
}

impl<'a> Trials<'a> {
    /// The trials of `inputs`, when its sweep is a search.
    pub fn of(inputs: &'a Inputs) -> Option<Trials<'a>> {
        let record = inputs.record.as_ref()?;
        let search = record.search.as_ref().filter(|s| !s.is_plain_grid())?;
        let mut groups = group(&inputs.results, inputs.select);
        // The validation accuracy the report's tables show: the best epoch's under best_val.
        if inputs.select == Select::BestVal {
            for g in groups.iter_mut() {
                let key = g.config.without_seed();
                let best: Vec<f64> = inputs
                    .results
                    .iter()
                    .filter(|r| r.config.without_seed() == key)
                    .map(|r| r.best_val_acc)
                    .collect();
                g.val_acc = Stat::of(&best);
            }
        }
        rank_by_validation(&mut groups);
        let mut trials = Trials {
            search,
            record,
            task: inputs.shape.task,
            groups,
            keys: Vec::new(),
        };
        trials.keys = search
            .varied(&record.grid)
            .into_iter()
            .map(|k| trials.key(k))
            .collect();
        Some(trials)
    }

    /// Drawn key `name`: its scale, the trials' values, and η² over the scored trials.
    fn key(&self, name: String) -> Key {
        let scale = match self.search.ranges.get(&name) {
            Some(Range::LogUniform(_) | Range::IntLog(_)) => Scale::Log,
            Some(_) => Scale::Linear,
            None => Scale::Categories(self.categories(&name)),
        };
        let values: Vec<f64> = self
            .groups
            .iter()
            .map(|g| match &scale {
                Scale::Categories(c) => {
                    let t = g.config.value_text(&name);
                    c.iter()
                        .position(|x| *x == t)
                        .map_or(f64::NAN, |i| i as f64)
                }
                _ => g.config.value(&name).as_f64().unwrap_or(f64::NAN),
            })
            .collect();
        let scored: Vec<usize> = (0..values.len())
            .filter(|&i| values[i].is_finite() && self.score(i).is_finite())
            .collect();
        let scores: Vec<f64> = scored.iter().map(|&i| self.score(i)).collect();
        let at: Vec<f64> = scored.iter().map(|&i| values[i]).collect();
        let bins: Vec<usize> = match scale {
            Scale::Categories(_) => at.iter().map(|&v| v as usize).collect(),
            _ => importance::equal_count_bins(&at),
        };
        Key {
            importance: importance::eta_squared(&scores, &bins),
            name,
            scale,
            values,
        }
    }

    /// A list key's values as labels show them: the list's order, then any other value seen.
    fn categories(&self, name: &str) -> Vec<String> {
        let mut c: Vec<String> = self
            .record
            .grid
            .get(name)
            .map(|vs| {
                vs.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen: Vec<String> = self
            .groups
            .iter()
            .map(|g| g.config.value_text(name))
            .filter(|t| !c.contains(t))
            .collect();
        seen.sort();
        seen.dedup();
        c.extend(seen);
        c
    }

    /// Trial `i`'s validation score as the tables show it: accuracy (a fraction) for
    /// classification, the validation error for numeric tasks; NaN where none was recorded.
    pub fn score(&self, i: usize) -> f64 {
        let g = &self.groups[i];
        match self.task {
            Task::Classify => g.val_acc.mean,
            _ => g.val_error.mean,
        }
    }

    /// What the score is, for an axis or a column: "validation accuracy (%)", or the error's
    /// name and that lower is better.
    pub fn score_name(&self) -> &'static str {
        match self.task {
            Task::Classify => "validation accuracy (%)",
            Task::Forecast => "validation MASE (lower is better)",
            _ => "validation RMSE (lower is better)",
        }
    }

    /// Trial `i`'s score as a table cell.
    fn score_cell(&self, i: usize) -> String {
        let s = self.score(i);
        match (self.task, s.is_finite()) {
            (_, false) => "–".into(),
            (Task::Classify, true) => format!("{:.2}", 100.0 * s),
            _ => crate::records::sig(Some(s)),
        }
    }
}

/// Renders the search's figure into `dir`, when the sweep is a search; returns its files.
pub fn render(inputs: &Inputs, dir: &Path) -> Result<Vec<PathBuf>> {
    match Trials::of(inputs) {
        Some(t) if !t.keys.is_empty() => crate::style::render(&figure::SearchKeys(&t), dir),
        _ => Ok(Vec::new()),
    }
}
