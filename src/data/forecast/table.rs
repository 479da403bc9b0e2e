/*!
A forecast's series file, read (`read`, `parse`) into a `Panel` of one or more `Table`s.

The file has a header and one row per timestep, in time order. A file of many series (a panel)
is either long, one row per series and timestep, with `id_column` naming each row's series (the
rows of one series in time order; the series in the order their ids first appear), or wide,
with `target_column = "*"`: every column read is a series of its own, named by its header. Its numeric columns are the
series' variables (`columns` picks some, comma-separated; a column whose first value is not a
number, such as a date, is ignored); `target_column` is the one forecast (default: the only
numeric column). A missing value (an empty cell, `NaN`, `NA` or `?`) is an error naming its
line unless `fill` says how to fill it (`interpolate`: a straight line across the gap;
`ffill`: the last value carried forward; a gap at the start has nothing to fill from and stays
an error); text in a numeric column is always an error.
*/
use std::path::Path;

use crate::config::{Fill, RunConfig};
use crate::data::dates::Calendar;
use crate::data::series::{distinct_header, read_text};
use crate::error::UserError;

/// A series file as read: its variables, timestep-major.
#[derive(Clone, Debug)]
pub struct Table {
    /// The columns read: in file order, or in the order `columns` names them.
    pub names: Vec<String>,
    /// Index of the target in `names`.
    pub target: usize,
    /// `steps * names.len()` values: all variables of step 0, then step 1, ...
    pub values: Vec<f64>,
    pub steps: usize,
    /// The rows' dates (`date_column`), regular by construction; None without one.
    pub calendar: Option<Calendar>,
}

impl Table {
    pub fn features(&self) -> usize {
        self.names.len()
    }

    /// The target's values in time order.
    pub fn target_values(&self) -> Vec<f64> {
        let f = self.features();
        (0..self.steps)
            .map(|t| self.values[t * f + self.target])
            .collect()
    }

    /// Where a logarithm cannot read the series (`transform`): the first step whose target is
    /// not positive (zero, negative), said as "the target NAME{which} is VALUE at step S
    /// (0-based, DATE)", `which` naming the series in a panel; None where every value is.
    pub fn non_positive(&self, which: &str) -> Option<String> {
        let (s, v) = self
            .target_values()
            .into_iter()
            .enumerate()
            .find(|(_, v)| v.is_nan() || *v <= 0.0)?;
        let date = self
            .calendar
            .map_or(String::new(), |c| format!(", {}", c.date(s)));
        Some(format!(
            "the target {:?}{which} is {v} at step {s} (0-based{date})",
            self.names[self.target]
        ))
    }

    /// The table with its target read as its natural logarithm (`transform = "log"`), the
    /// other variables as they are; every target value must be positive (`non_positive`).
    pub fn with_log_target(&self) -> Table {
        let f = self.features();
        let mut values = self.values.clone();
        for t in 0..self.steps {
            values[t * f + self.target] = values[t * f + self.target].ln();
        }
        Table {
            values,
            names: self.names.clone(),
            target: self.target,
            steps: self.steps,
            calendar: self.calendar,
        }
    }
}

/// The `target_column` of a wide panel: every column read is a series of its own.
pub const EVERY_COLUMN: &str = "*";

/// The series of a file: one for a plain series file, several for a panel.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Each series' id: its `id_column` value or its column (wide); "" for a plain file's one.
    pub ids: Vec<String>,
    pub tables: Vec<Table>,
}

impl Panel {
    /// A file of several series (or one named by an id): its outputs carry each row's id.
    pub fn is_panel(&self) -> bool {
        self.ids.len() > 1 || self.ids.first().is_some_and(|id| !id.is_empty())
    }

    /// How a series is named in an error: "" for a plain file, ` (series "ID")` in a panel.
    pub fn which(&self, i: usize) -> String {
        match self.is_panel() {
            true => format!(" (series {:?})", self.ids[i]),
            false => String::new(),
        }
    }
}

/// Reads the series file of `cfg` (its `columns`, `target_column` and `id_column`).
pub fn read(path: &Path, cfg: &RunConfig) -> Result<Panel, UserError> {
    let text = read_text(path)?;
    parse(&text, path, cfg)
}

/// Parses a series file: its header, then its rows; reads the columns `columns` names (or
/// every numeric one) and finds the target among them, for the one series of a plain file,
/// each id's series of a long panel, or each column of a wide one.
pub fn parse(text: &str, path: &Path, cfg: &RunConfig) -> Result<Panel, UserError> {
    let (header, rows) = read_rows(text, path)?;
    let id = id_column(&header, &rows, path, cfg)?;
    if cfg.target_column == EVERY_COLUMN {
        return wide(&header, &rows, path, cfg);
    }
    let chosen = choose_columns(&header, &rows, path, cfg, id)?;
    let names: Vec<String> = chosen.iter().map(|&c| header[c].clone()).collect();
    let target = choose_target(&names, path, cfg)?;
    let Some(id) = id else {
        let table = read_table(&header, &rows, (&chosen, &names, target), path, cfg)?;
        return Ok(Panel {
            ids: vec![String::new()],
            tables: vec![table],
        });
    };
    let (ids, groups) = group_rows(&header, rows, id, path, cfg)?;
    let tables = groups
        .iter()
        .map(|g| read_table(&header, g, (&chosen, &names, target), path, cfg))
        .collect::<Result<_, _>>()?;
    Ok(Panel { ids, tables })
}

/// The `id_column` of a long panel: its index, or None where the file is one series. Under the
/// key's default ("id") a column of that name makes a panel only when it holds text with at
/// least two ids: a plain series file may hold an `id` column of numbers (a variable, as
/// before panels) or of one label (ignored, as before). Another name the header lacks is an
/// error.
fn id_column(
    header: &[String],
    rows: &Rows,
    path: &Path,
    cfg: &RunConfig,
) -> Result<Option<usize>, UserError> {
    let default = cfg.id_column == RunConfig::default().id_column;
    if let Some(c) = header.iter().position(|h| *h == cfg.id_column) {
        if default {
            let cells = || {
                rows.iter()
                    .map(|(_, r)| r[c].as_str())
                    .filter(|v| !v.is_empty())
            };
            let numeric = cells().next().is_some_and(|v| v.parse::<f64>().is_ok());
            let first = cells().next();
            if numeric || cells().all(|v| Some(v) == first) {
                return Ok(None);
            }
        }
        if cfg.target_column == EVERY_COLUMN {
            return Err(UserError::Config {
                origin: "target_column".into(),
                message: format!(
                    "target_column = \"*\" reads a wide file (one column per series), but {} \
                     has an id column {:?}: expected one of the two layouts (set id_column to \
                     a name the file lacks, or name the target)",
                    path.display(),
                    header[c]
                ),
            });
        }
        return Ok(Some(c));
    }
    if default {
        return Ok(None);
    }
    Err(UserError::Config {
        origin: "id_column".into(),
        message: format!(
            "id_column = {:?}: no such column in {}: expected one of its header ({})",
            cfg.id_column,
            path.display(),
            header.join(", ")
        ),
    })
}

/// One series' table from its rows: the `chosen` columns (`names`, the target at `target`),
/// filled as `fill` says, with the dates of `date_column`.
fn read_table(
    header: &[String],
    rows: &Rows,
    (chosen, names, target): (&[usize], &[String], usize),
    path: &Path,
    cfg: &RunConfig,
) -> Result<Table, UserError> {
    let calendar = read_calendar(header, rows, path, cfg)?;
    let mut values = read_values(rows, chosen, names, path, cfg.fill)?;
    fill_gaps(&mut values, names.len(), rows, names, path, cfg.fill)?;
    Ok(Table {
        names: names.to_vec(),
        target,
        values,
        steps: rows.len(),
        calendar,
    })
}

/// A long panel's rows by series: the ids in the order they first appear, each with its rows
/// in file order. An empty id, or a date repeated within one series, is an error naming its
/// line.
fn group_rows(
    header: &[String],
    rows: Rows,
    id: usize,
    path: &Path,
    cfg: &RunConfig,
) -> Result<(Vec<String>, Vec<Rows>), UserError> {
    let date = (!cfg.date_column.is_empty())
        .then(|| header.iter().position(|h| *h == cfg.date_column))
        .flatten();
    let mut ids: Vec<String> = Vec::new();
    let mut groups: Vec<Rows> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut seen = std::collections::HashMap::new();
    for (line, row) in rows {
        let key = row[id].clone();
        if key.is_empty() {
            return Err(UserError::data_at(
                path,
                line,
                format!("column {:?}: no id: expected the series' id", header[id]),
            ));
        }
        if let Some(d) = date {
            if let Some(first) = seen.insert((key.clone(), row[d].clone()), line) {
                return Err(UserError::data_at(
                    path,
                    line,
                    format!(
                        "series {key:?}: date {:?} repeats line {first}: expected one row per \
                         series and date",
                        row[d]
                    ),
                ));
            }
        }
        let g = *index.entry(key.clone()).or_insert_with(|| {
            ids.push(key);
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push((line, row));
    }
    Ok((ids, groups))
}

/// A wide panel (`target_column = "*"`): every column read is a series of its own, named by
/// its header, with the file's dates.
fn wide(header: &[String], rows: &Rows, path: &Path, cfg: &RunConfig) -> Result<Panel, UserError> {
    let chosen = choose_columns(header, rows, path, cfg, None)?;
    let mut panel = Panel {
        ids: Vec::new(),
        tables: Vec::new(),
    };
    for c in chosen {
        let names = [header[c].clone()];
        panel
            .tables
            .push(read_table(header, rows, (&[c], &names, 0), path, cfg)?);
        panel.ids.push(header[c].clone());
    }
    Ok(panel)
}

/// The calendar of the `date_column` (None when it is ""): the column must exist, and its
/// dates must rise by one regular step; an error names the row and what was expected.
fn read_calendar(
    header: &[String],
    rows: &Rows,
    path: &Path,
    cfg: &RunConfig,
) -> Result<Option<Calendar>, UserError> {
    if cfg.date_column.is_empty() {
        return Ok(None);
    }
    let Some(c) = header.iter().position(|h| *h == cfg.date_column) else {
        return Err(UserError::Config {
            origin: "date_column".into(),
            message: format!(
                "date_column = {:?}: no such column in {}: expected one of its header ({})",
                cfg.date_column,
                path.display(),
                header.join(", ")
            ),
        });
    };
    let dates: Vec<(usize, &str)> = rows.iter().map(|(l, r)| (*l, r[c].as_str())).collect();
    Calendar::of(&dates).map(Some).map_err(|(line, why)| {
        UserError::data_at(path, line, format!("column {:?}: {why}", cfg.date_column))
    })
}

/// A series file's rows, each with its line.
type Rows = Vec<(usize, Vec<String>)>;

/// The header of a series file and its rows, every row as wide as the header.
fn read_rows(text: &str, path: &Path) -> Result<(Vec<String>, Rows), UserError> {
    let err = |m: String| UserError::data(path, m);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let header_record = reader
        .headers()
        .map_err(|e| err(format!("cannot read the CSV header: {e}")))?;
    let header_line = header_record.position().map_or(1, |p| p.line() as usize);
    let header: Vec<String> = header_record.iter().map(str::to_string).collect();
    distinct_header(&header, path, header_line)?;
    let mut rows: Rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| err(format!("cannot read CSV row {}: {e}", i + 2)))?;
        let line = record.position().map_or(i + 2, |p| p.line() as usize);
        if record.len() != header.len() {
            return Err(UserError::data_at(
                path,
                line,
                format!(
                    "{} fields: expected {} as in the header",
                    record.len(),
                    header.len()
                ),
            ));
        }
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    if rows.is_empty() {
        return Err(err(
            "no rows after the header: expected one row per timestep".into(),
        ));
    }
    Ok((header, rows))
}

/// The columns read: those `columns` names, or every one whose first non-empty value is a
/// number (a gap in the first row does not hide a column; the gap itself is an error).
/// A long panel's id column (`id`) is never a variable either.
fn choose_columns(
    header: &[String],
    rows: &Rows,
    path: &Path,
    cfg: &RunConfig,
    id: Option<usize>,
) -> Result<Vec<usize>, UserError> {
    let numeric = |c: usize| {
        rows.iter()
            .map(|(_, row)| row[c].as_str())
            .find(|cell| !missing(cell))
            .is_some_and(|cell| cell.parse::<f64>().is_ok())
    };
    // A date column is never a variable, even when its dates are numbers (years).
    let chosen: Vec<usize> = if cfg.columns.trim().is_empty() {
        (0..header.len())
            .filter(|&c| numeric(c) && header[c] != cfg.date_column && Some(c) != id)
            .collect()
    } else {
        cfg.columns
            .split(',')
            .map(|name| {
                let name = name.trim();
                header.iter().position(|h| h == name).ok_or_else(|| {
                    UserError::Config {
                        origin: "columns".into(),
                        message: format!(
                            "columns = {:?}: no column {name:?} in {}: expected names from its header ({})",
                            cfg.columns,
                            path.display(),
                            header.join(", ")
                        ),
                    }
                })
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(UserError::data(
            path,
            format!(
                "no numeric column (header: {}): expected a column of numbers to forecast",
                header.join(", ")
            ),
        ));
    }
    Ok(chosen)
}

/// The target's index in `names`: `target_column`, or the one column read.
fn choose_target(names: &[String], path: &Path, cfg: &RunConfig) -> Result<usize, UserError> {
    if !cfg.target_column.is_empty() {
        return names
            .iter()
            .position(|n| *n == cfg.target_column)
            .ok_or_else(|| UserError::Config {
                origin: "target_column".into(),
                message: format!(
                    "target_column = {:?}: not a column read from {} (read: {}): expected \
                     one of them",
                    cfg.target_column,
                    path.display(),
                    names.join(", ")
                ),
            });
    }
    if names.len() > 1 {
        return Err(UserError::Config {
            origin: "target_column".into(),
            message: format!(
                "target_column = \"\": {} has several numeric columns ({}): expected \
                 target_column naming the one to forecast",
                path.display(),
                names.join(", ")
            ),
        });
    }
    Ok(0)
}

/// `fill` as the config spells it.
fn fill_name(fill: Fill) -> &'static str {
    match fill {
        Fill::None => "\"none\"",
        Fill::Interpolate => "\"interpolate\"",
        Fill::Ffill => "\"ffill\"",
    }
}

/// Whether a cell marks a missing value: empty, `NaN`, `NA` or `?` (any case).
fn missing(cell: &str) -> bool {
    matches!(cell.to_ascii_lowercase().as_str(), "" | "nan" | "na" | "?")
}

/// The `chosen` columns' values, timestep-major; each a finite number, or NaN for a missing
/// value when `fill` fills it.
fn read_values(
    rows: &Rows,
    chosen: &[usize],
    names: &[String],
    path: &Path,
    fill: Fill,
) -> Result<Vec<f64>, UserError> {
    let mut values = Vec::with_capacity(rows.len() * chosen.len());
    for (line, row) in rows {
        for (&c, name) in chosen.iter().zip(names) {
            let cell = &row[c];
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ if fill != Fill::None && missing(cell) => values.push(f64::NAN),
                _ => {
                    let hint = match missing(cell) {
                        true => "; or set fill = \"interpolate\" or \"ffill\"",
                        false => "",
                    };
                    return Err(UserError::data_at(
                        path,
                        *line,
                        format!(
                            "column {name:?}: {cell:?}: expected a finite number (fill or \
                             drop gaps first{hint})"
                        ),
                    ));
                }
            }
        }
    }
    Ok(values)
}

/// Fills the NaN gaps of every column of `values` (timestep-major, `f` columns) as `fill`
/// says: a straight line between the values around a gap, or the last value before it. A gap
/// at the start (nothing before it) is an error naming its first line; `interpolate` also
/// refuses one at the end (nothing after it to draw the line to).
fn fill_gaps(
    values: &mut [f64],
    f: usize,
    rows: &Rows,
    names: &[String],
    path: &Path,
    fill: Fill,
) -> Result<(), UserError> {
    let steps = values.len() / f.max(1);
    for (c, name) in names.iter().enumerate().take(f) {
        let at = |t: usize| t * f + c;
        let mut t = 0;
        while t < steps {
            if !values[at(t)].is_nan() {
                t += 1;
                continue;
            }
            let end = (t..steps).find(|&u| !values[at(u)].is_nan());
            let unfillable = |why: &str| {
                UserError::data_at(
                    path,
                    rows[t].0,
                    format!("column {name:?}: a missing value {why}: cannot be filled (fill = {}); expected a value there, or drop those rows", fill_name(fill)),
                )
            };
            if t == 0 {
                return Err(unfillable("at the series' start"));
            }
            let before = values[at(t - 1)];
            match (fill, end) {
                (Fill::Interpolate, None) => return Err(unfillable("at the series' end")),
                (Fill::Interpolate, Some(e)) => {
                    let after = values[at(e)];
                    let span = (e - (t - 1)) as f64;
                    for u in t..e {
                        let w = (u - (t - 1)) as f64 / span;
                        values[at(u)] = before + w * (after - before);
                    }
                }
                _ => {
                    for u in t..end.unwrap_or(steps) {
                        values[at(u)] = before;
                    }
                }
            }
            t = end.unwrap_or(steps);
        }
    }
    Ok(())
}
