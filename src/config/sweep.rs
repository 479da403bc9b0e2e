/*!
A sweep (`SweepConfig`): a grid of run configs from a flat TOML file, `--set` overrides or a
`sweep.json` record. Every run key may be a single value or a list; the grid is the product of
the lists, in `RUN_KEYS` order. A search (`method = "random"` or `"sobol"`, `search::Search`)
draws `trials` runs instead, from ranges and lists. Errors name the file and line (or the `--set`), the key and
the value, and say what is expected.
*/
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::keys::{RunConfig, RUN_KEYS};
use super::search::{count_value, method_value, Asha, Range, Search, MAX_TRIALS};
use super::values::Select;
use super::{check_value, line_of, valid_name, value_text};
use crate::error::UserError;

/// A sweep file larger than this is refused (the shipped ones are under 2 KiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A grid of runs: for each key of `RUN_KEYS`, the list of values to try.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SweepConfig {
    /// Sweep name: the folder under the output directory.
    pub name: String,
    /// Which epoch's test accuracy the tables and figures show.
    #[serde(default, skip_serializing_if = "Select::is_last")]
    pub select: Select,
    /// Key -> values, as TOML values already checked by `check_value`.
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// A search's method, trials, seed and ranges; None for a grid (and absent from the
    /// record, so that grid sweeps record as they always have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Search>,
    /// Where each key of the grid was set (`file:line`, `--set ...`, `--flag`), and under
    /// "" where the sweep came from: errors that only the data can find name it.
    #[serde(skip)]
    pub origins: BTreeMap<String, String>,
}

impl SweepConfig {
    /// Reads and validates a sweep file: a regular file of at most `MAX_CONFIG_BYTES`.
    pub fn load(path: &Path) -> Result<Self, UserError> {
        let origin = path.display().to_string();
        let err = |message: String| UserError::Config {
            origin: origin.clone(),
            message,
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| err(format!("cannot read the sweep config: {e}")))?;
        if !meta.is_file() {
            return Err(err(
                "not a regular file: expected a sweep config (TOML)".into()
            ));
        }
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(err(format!(
                "{} bytes: expected a sweep config (TOML) of at most {MAX_CONFIG_BYTES} bytes",
                meta.len()
            )));
        }
        let bytes =
            std::fs::read(path).map_err(|e| err(format!("cannot read the sweep config: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| err("not UTF-8 text: expected a sweep config (TOML)".into()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self::parse(&text, &origin, &stem)?.with_source(&origin))
    }

    /// Without a `name` key (in the file or a `--set`), the sweep folder is named after the
    /// config file: the key's rules apply to that name too. Checked once the overrides are in.
    pub fn check_name(&self) -> Result<(), UserError> {
        if self.origins.contains_key("name") || valid_name(&self.name) {
            return Ok(());
        }
        Err(UserError::Config {
            origin: self.origins.get("").cloned().unwrap_or_default(),
            message: format!(
                "the file name gives the sweep folder name {:?}: expected a folder name of \
                 letters, digits, '-', '_' or '.', not starting with '.'; rename the file or \
                 add a `name = \"...\"` key (or --set name=...)",
                self.name
            ),
        })
    }

    /// A sweep read back from its record (`sweep.json`): every key and value is checked as a
    /// sweep file's would be, and an error names `origin` (the record's path).
    pub fn checked(
        name: &str,
        select: Select,
        grid: &BTreeMap<String, Vec<toml::Value>>,
        search: Option<&Search>,
        origin: &str,
    ) -> Result<Self, UserError> {
        let err = |message: String| UserError::Store {
            path: origin.into(),
            message,
        };
        for (key, values) in grid {
            if !RUN_KEYS.contains(&key.as_str()) {
                return Err(err(format!("unknown key `{key}` in the grid")));
            }
            if values.is_empty() {
                return Err(err(format!("{key} = []: expected at least one value")));
            }
            for v in values {
                check_value(key, v).map_err(&err)?;
            }
        }
        let sweep = SweepConfig {
            name: name.to_string(),
            select,
            grid: grid.clone(),
            search: search.cloned(),
            origins: BTreeMap::new(),
        };
        sweep.check_combinations().map_err(|(_, m)| err(m))?;
        Ok(sweep.with_source(origin))
    }

    fn with_source(mut self, source: &str) -> Self {
        self.origins.insert(String::new(), source.to_string());
        self
    }

    /// Gives an error that names a key alone (as checks that need the data make them) the
    /// origin of that key: where it was set, or the sweep's source and "default" when it was
    /// not set.
    pub fn locate(&self, e: UserError) -> UserError {
        match e {
            UserError::Config { origin, message } if RUN_KEYS.contains(&origin.as_str()) => {
                let origin = match self.origins.get(&origin) {
                    Some(o) => o.clone(),
                    None => match self.origins.get("") {
                        Some(source) => format!("{source} (default {origin})"),
                        None => format!("default {origin}"),
                    },
                };
                UserError::Config { origin, message }
            }
            other => other,
        }
    }

    /// Parses sweep TOML; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str, default_name: &str) -> Result<Self, UserError> {
        let mut sweep = Self::parse_keys(text, origin, default_name)?;
        sweep.search = sweep.search.take().filter(|s| !s.is_plain_grid());
        sweep
            .check_combinations()
            .map_err(|(key, message)| UserError::Config {
                origin: sweep
                    .origins
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| origin.to_string()),
                message,
            })?;
        Ok(sweep)
    }

    /// Parses and checks every key and value, not yet their combinations. `search` is Some
    /// when any search key or range was written, even `method = "grid"` alone.
    fn parse_keys(text: &str, origin: &str, default_name: &str) -> Result<Self, UserError> {
        let err = |line: Option<usize>, message: String| UserError::Config {
            origin: match line {
                Some(l) => format!("{origin}:{l}"),
                None => origin.to_string(),
            },
            message,
        };
        let table = toml_table(text).map_err(|(line, m)| err(line, m))?;
        let mut name = default_name.to_string();
        let mut select = Select::Last;
        let mut grid = BTreeMap::new();
        let mut search: Option<Search> = None;
        let mut origins = BTreeMap::new();
        for (key, value) in &table {
            let line = Some(line_of(text, key.span().start));
            let k = key.get_ref().as_str();
            origins.insert(
                k.to_string(),
                match line {
                    Some(l) if !origin.starts_with("--") => format!("{origin}:{l}"),
                    _ => origin.to_string(),
                },
            );
            match k {
                "name" => name = name_value(value.get_ref()).map_err(|m| err(line, m))?,
                "select" => select = select_value(value.get_ref()).map_err(|m| err(line, m))?,
                "method" | "trials" | "search_seed" | "early_stop" | "grace_period"
                | "reduction_factor" => {
                    let s = search.get_or_insert_with(Search::default);
                    search_key(s, k, value.get_ref()).map_err(|m| err(line, m))?;
                }
                _ if value.get_ref().is_table() && RUN_KEYS.contains(&k) => {
                    let table = value.get_ref().as_table().expect("a table");
                    let range = Range::parse(k, table).map_err(|m| err(line, m))?;
                    let s = search.get_or_insert_with(Search::default);
                    s.ranges.insert(k.to_string(), range);
                }
                _ => {
                    let values = grid_values(k, value.get_ref()).map_err(|m| err(line, m))?;
                    grid.insert(k.to_string(), values);
                }
            }
        }
        Ok(SweepConfig {
            name,
            select,
            grid,
            search,
            origins,
        })
    }

    /// Checks the keys that depend on each other, in every run of the grid.
    fn check_combinations(&self) -> Result<(), (String, String)> {
        let what = match &self.search {
            Some(s) if s.draws() => {
                s.check()?;
                "a drawn trial"
            }
            Some(s) => {
                s.check()?;
                "a run of the grid"
            }
            None => "a run of the grid",
        };
        let runs = self.drawn_runs()?;
        if let Some(asha) = self.search.as_ref().and_then(|s| s.early_stop) {
            check_asha(asha, &runs)?;
        }
        runs.iter().try_for_each(|r| {
            r.check_combination()
                .map_err(|(k, m)| (k, format!("{m} (in {what})")))
        })?;
        // One task a sweep: its tables, figures and dashboards speak one kind of score.
        if runs.iter().any(|r| r.task != runs[0].task) {
            return Err((
                "task".into(),
                format!(
                    "task = [{}]: expected one task per sweep (its tables and figures show one \
                     kind of score); make a sweep per task",
                    self.grid
                        .get("task")
                        .into_iter()
                        .flatten()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Applies `--set KEY=VALUE` overrides in order, then checks the result once (so that
    /// `--set method="random" --set trials=8` may name the keys in either order). A refused
    /// override leaves the sweep as it was; an error names the `--set` of the key at fault.
    pub fn set_all(&mut self, assignments: &[String]) -> Result<(), UserError> {
        let mut next = self.clone();
        for a in assignments {
            next.apply(a)?;
        }
        next.check_combinations().map_err(|(key, message)| {
            // The --set of this call that set the key at fault, or else its last one.
            let ours: Vec<String> = assignments.iter().map(|a| format!("--set {a}")).collect();
            let origin = next.origins.get(&key).filter(|o| ours.contains(o));
            let origin = origin.or(ours.last()).cloned().unwrap_or_default();
            UserError::Config { origin, message }
        })?;
        *self = next;
        Ok(())
    }

    /// One `--set KEY=VALUE` override, checked with the rest of the sweep.
    #[cfg(test)]
    pub fn set(&mut self, assignment: &str) -> Result<(), UserError> {
        self.set_all(&[assignment.to_string()])
    }

    /// Sets one `KEY=VALUE` (parsed and checked as a sweep file's line), not yet checked
    /// with the other keys.
    fn apply(&mut self, assignment: &str) -> Result<(), UserError> {
        let origin = format!("--set {assignment}");
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(UserError::Config {
                origin,
                message: "expected key=value".into(),
            });
        };
        // grace_period and reduction_factor are parsed under an early_stop line of their
        // own, then applied to this sweep's, which must be there.
        let key = key.trim();
        let asha_key = matches!(key, "grace_period" | "reduction_factor");
        if asha_key && self.search.as_ref().and_then(|s| s.early_stop).is_none() {
            return Err(UserError::Config {
                origin,
                message: format!(
                    "{key}: applies to early_stop = \"asha\": expected --set early_stop=\"asha\" \
                     (or the sweep file's line) before it"
                ),
            });
        }
        let text = match asha_key {
            true => format!("early_stop = \"asha\"\n{assignment}"),
            false => assignment.to_string(),
        };
        let value = value.trim();
        // A config error under this --set, its value as typed (`typed`: the word, where the
        // parse quoted it).
        let with_origin = |e: UserError, typed: Option<&str>| match e {
            UserError::Config { message, .. } => UserError::Config {
                origin: origin.clone(),
                message: match typed {
                    Some(v) => message.replace(&format!("\"{v}\""), v),
                    None => message,
                },
            },
            other => other,
        };
        let parsed = match Self::parse_keys(&text, &origin, &self.name) {
            // A word the shell left unquoted (--set cell="gru" reaches us as cell=gru) is read
            // as the text it names, as Hydra's overrides read one; a key that takes no text
            // says what it expects, of the word as typed.
            Err(UserError::Config { message, .. })
                if message.contains("invalid TOML") && !asha_key && bare_word(key, value) =>
            {
                let quoted = format!("{key} = \"{value}\"");
                Self::parse_keys(&quoted, &origin, &self.name)
                    .map_err(|e| with_origin(e, Some(value)))?
            }
            parsed => parsed.map_err(|e| with_origin(e, None))?,
        };
        let next = self;
        match key {
            "name" => next.name = parsed.name,
            "select" => next.select = parsed.select,
            _ => {}
        }
        if let Some(p) = parsed.search {
            let s = next.search.get_or_insert_with(Search::default);
            match key {
                "method" => s.method = p.method,
                "trials" => s.trials = p.trials,
                "search_seed" => s.search_seed = p.search_seed,
                // Turning it on keeps the file's grace_period and reduction_factor.
                "early_stop" => {
                    s.early_stop = p.early_stop.map(|_| s.early_stop.unwrap_or_default())
                }
                "grace_period" | "reduction_factor" => {
                    let mine = s.early_stop.get_or_insert_with(Asha::default);
                    let theirs = p.early_stop.unwrap_or_default();
                    match key {
                        "grace_period" => mine.grace_period = theirs.grace_period,
                        _ => mine.reduction_factor = theirs.reduction_factor,
                    }
                }
                _ => {}
            }
            for (k, r) in p.ranges {
                next.grid.remove(&k);
                s.ranges.insert(k, r);
            }
        }
        if let Some(s) = next.search.as_mut() {
            s.ranges.retain(|k, _| !parsed.grid.contains_key(k));
        }
        next.search = next.search.take().filter(|s| !s.is_plain_grid());
        next.grid.extend(parsed.grid);
        next.origins.extend(parsed.origins);
        Ok(())
    }

    /// The runs of the sweep, in a fixed order: a search's trials in the order drawn, or the
    /// grid's in `RUN_KEYS` order, the first key slowest.
    pub fn runs(&self) -> Vec<RunConfig> {
        self.drawn_runs().expect("draws are checked when parsed")
    }

    /// The runs, or the error of a drawn value that its key refuses (`(key, message)`).
    fn drawn_runs(&self) -> Result<Vec<RunConfig>, (String, String)> {
        let runs = match &self.search {
            Some(s) if s.draws() => self.trials(&s.draw(&self.grid)?),
            _ => self.grid_runs(),
        };
        Ok(runs
            .into_iter()
            .map(|r| {
                let mut r = r.with_series_defaults(|k| {
                    self.grid.contains_key(k)
                        || self
                            .search
                            .as_ref()
                            .is_some_and(|s| s.ranges.contains_key(k))
                });
                r.patch = r.canonical_patch();
                r
            })
            .collect())
    }

    /// A search's trials, each once per listed seed (trial by trial, seeds in list order):
    /// each key set in `RUN_KEYS` order, to its drawn value or its one value.
    fn trials(&self, drawn: &[BTreeMap<String, toml::Value>]) -> Vec<RunConfig> {
        let seeds = self.grid.get("seed").map(|v| v.iter().map(Some).collect());
        let seeds: Vec<Option<&toml::Value>> = seeds.unwrap_or(vec![None]);
        let mut runs = Vec::with_capacity(drawn.len() * seeds.len());
        for trial in drawn {
            for seed in &seeds {
                let mut r = RunConfig::default();
                for key in RUN_KEYS {
                    let v = match *key {
                        "seed" => *seed,
                        _ => trial
                            .get(*key)
                            .or_else(|| self.grid.get(*key).map(|v| &v[0])),
                    };
                    if let Some(v) = v {
                        r.set(key, v).expect("values are checked when parsed");
                    }
                }
                runs.push(r);
            }
        }
        runs
    }

    /// The runs of the grid, before the series defaults.
    fn grid_runs(&self) -> Vec<RunConfig> {
        let mut runs = vec![RunConfig::default()];
        for key in RUN_KEYS {
            let Some(values) = self.grid.get(*key) else {
                continue;
            };
            runs = runs
                .into_iter()
                .flat_map(|run| {
                    values.iter().map(move |v| {
                        let mut r = run.clone();
                        r.set(key, v).expect("values are checked when parsed");
                        r
                    })
                })
                .collect();
        }
        runs
    }

    /// Keys with more than one value (or a range): what distinguishes the runs of this sweep.
    pub fn swept_keys(&self) -> Vec<String> {
        let drawn = self.search.as_ref().map(|s| s.varied(&self.grid));
        let drawn = drawn.unwrap_or_default();
        RUN_KEYS
            .iter()
            .filter(|k| {
                drawn.iter().any(|d| d == **k) || self.grid.get(**k).is_some_and(|v| v.len() > 1)
            })
            .map(|k| k.to_string())
            .collect()
    }
}

/// Whether `value` is a bare word (`gru`, `ts:data/GunPoint/GunPoint`) of a bare `key`: text a
/// shell left unquoted, starting with a letter, not a number, list, table or string mistyped.
fn bare_word(key: &str, value: &str) -> bool {
    let key_ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    key_ok
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/+".contains(c))
}

/// A sweep file's keys and values, each with where it stands in the text.
type Table = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// The keys and values of sweep TOML `text`; an error gives the line it is on, if known.
fn toml_table(text: &str) -> Result<Table, (Option<usize>, String)> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let reason = e.message().trim().replace('\n', " ");
        let reason = if reason.is_empty() {
            "expected key = value, the value in TOML syntax (a number, true/false, \
             a \"quoted string\" or a [list])"
                .to_string()
        } else {
            reason
        };
        (line, format!("invalid TOML: {reason}"))
    })
}

/// The sweep folder name that the `name` key gives.
fn name_value(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) if valid_name(s) => Ok(s.clone()),
        v => Err(format!("name = {v}: expected a folder name of letters, digits, '-', '_' or '.', not starting with '.'")),
    }
}

/// The epoch choice that the `select` key gives.
fn select_value(value: &toml::Value) -> Result<Select, String> {
    match value.as_str() {
        Some("last") => Ok(Select::Last),
        Some("best_val") => Ok(Select::BestVal),
        _ => Err(format!(
            "select = {}: expected \"last\" (the final epoch's test accuracy) or \"best_val\" \
             (that of the epoch with the best validation accuracy)",
            value_text(value)
        )),
    }
}

/// Successive halving needs one fixed budget for every run, longer than the grace period:
/// its last rung is where runs end.
fn check_asha(asha: Asha, runs: &[RunConfig]) -> Result<(), (String, String)> {
    let budgets: std::collections::BTreeSet<Option<usize>> =
        runs.iter().map(|r| r.epochs.fixed()).collect();
    match budgets.iter().collect::<Vec<_>>().as_slice() {
        [Some(e)] if *e > asha.grace_period => Ok(()),
        [Some(e)] => Err((
            "grace_period".into(),
            format!(
                "grace_period = {}: expected fewer epochs than the runs' epochs = {e} (the last \
                 rung)",
                asha.grace_period
            ),
        )),
        _ => Err((
            "epochs".into(),
            "early_stop = \"asha\": expected one epochs = N for every run (the budget of the \
             last rung; not \"auto\", a list or a range)"
                .into(),
        )),
    }
}

/// Sets search key `k` (`method`, `trials`, `search_seed`, `early_stop`, `grace_period`,
/// `reduction_factor`) of `s` to `value`, checked.
fn search_key(s: &mut Search, k: &str, value: &toml::Value) -> Result<(), String> {
    fn asha<'a>(s: &'a mut Search, k: &str, value: &toml::Value) -> Result<&'a mut Asha, String> {
        s.early_stop.as_mut().ok_or_else(|| {
            format!(
                "{k} = {}: applies to early_stop = \"asha\": expected an early_stop = \"asha\" \
                 line",
                value_text(value)
            )
        })
    }
    match k {
        "method" => s.method = method_value(value)?,
        "trials" => s.trials = count_value(k, value, 1, MAX_TRIALS)? as usize,
        "early_stop" => {
            s.early_stop = match value.as_str() {
                Some("asha") => Some(s.early_stop.unwrap_or_default()),
                Some("none") => None,
                _ => {
                    return Err(format!(
                        "early_stop = {}: expected \"asha\" (successive halving: runs paused at \
                         rungs, the best go on) or \"none\"",
                        value_text(value)
                    ))
                }
            }
        }
        "grace_period" => {
            asha(s, k, value)?.grace_period = count_value(k, value, 1, 100_000)? as usize
        }
        "reduction_factor" => {
            asha(s, k, value)?.reduction_factor = count_value(k, value, 2, 1_000)? as usize
        }
        _ => s.search_seed = count_value(k, value, 0, i64::MAX)?,
    }
    Ok(())
}

/// The values that run key `k` takes in the grid (a list, or a single value), each checked.
fn grid_values(k: &str, value: &toml::Value) -> Result<Vec<toml::Value>, String> {
    if !RUN_KEYS.contains(&k) {
        return Err(format!(
            "unknown key `{k}`; known keys: name, select, method, trials, search_seed, \
             early_stop, grace_period, reduction_factor, {}",
            RUN_KEYS.join(", ")
        ));
    }
    let values = match value {
        toml::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    if values.is_empty() {
        return Err(format!("{k} = []: expected at least one value"));
    }
    for v in &values {
        check_value(k, v)?;
    }
    Ok(values)
}
