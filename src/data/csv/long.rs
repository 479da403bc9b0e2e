//! The long CSV layout (`csv_layout = "long"`): one timestep per row, the rows of a series
//! sharing an id, gathered into series and ordered by time.
use std::collections::HashMap;
use std::path::Path;

use crate::data::series::{parse_value, Case};
use crate::error::UserError;

/// The columns of a long CSV that are not features.
pub(super) struct Columns {
    pub(super) label: Option<usize>,
    pub(super) id: usize,
    pub(super) time: Option<usize>,
    pub(super) group: Option<usize>,
}

/// The series of a long CSV: its rows grouped by id, in the order the ids first appear, each
/// series' steps ordered by time.
pub(super) fn cases(
    header: &[String],
    columns: Columns,
    rows: &[(usize, Vec<String>)],
    path: &Path,
) -> Result<Vec<Case>, UserError> {
    let Columns {
        label,
        id,
        time,
        group,
    } = columns;
    let feature_columns: Vec<usize> = (0..header.len())
        .filter(|&i| Some(i) != label && i != id && Some(i) != time && Some(i) != group)
        .collect();
    if feature_columns.is_empty() {
        return Err(UserError::data_at(path, 1, "no feature columns: expected at least one column besides id, time, label and group (csv_layout = \"long\")"));
    }
    let (order, mut series) = group_rows(header, &columns, &feature_columns, rows, path)?;
    let mut cases = Vec::with_capacity(order.len());
    for key in order {
        let LongSeries {
            first,
            label,
            group,
            mut steps,
        } = series.remove(&key).expect("every id in order");
        steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = steps.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(UserError::data_at(
                path,
                w[0].1.max(w[1].1),
                format!("series {key:?} has time {} twice (also line {}): expected one row per timestep", w[0].0, w[0].1.min(w[1].1)),
            ));
        }
        cases.push(Case {
            len: steps.len(),
            values: steps.into_iter().flat_map(|s| s.2).collect(),
            label,
            group,
            line: first,
        });
    }
    Ok(cases)
}

/// One series of a long CSV as its rows are read.
struct LongSeries {
    /// The line of its first row.
    first: usize,
    label: String,
    group: String,
    /// Its rows as (time, line, values).
    steps: Vec<(f64, usize, Vec<f32>)>,
}

/// The rows of a long CSV grouped by series id: the ids in the order they first appear, and
/// each id's series; every row of a series must carry its label and group.
fn group_rows(
    header: &[String],
    columns: &Columns,
    feature_columns: &[usize],
    rows: &[(usize, Vec<String>)],
    path: &Path,
) -> Result<(Vec<String>, HashMap<String, LongSeries>), UserError> {
    let mut order: Vec<String> = Vec::new();
    let mut series: HashMap<String, LongSeries> = HashMap::new();
    for (k, (line, fields)) in rows.iter().enumerate() {
        let at = |m: String| UserError::data_at(path, *line, m);
        let key = &fields[columns.id];
        if key.is_empty() {
            return Err(at(format!(
                "missing id: expected a series id in column {:?}",
                header[columns.id]
            )));
        }
        let t = time_of(k, fields, columns.time, header).map_err(&at)?;
        let values = feature_columns
            .iter()
            .map(|&c| parse_value(&fields[c], &format!("column {:?}", header[c])))
            .collect::<Result<Vec<f32>, String>>()
            .map_err(&at)?;
        let here = columns
            .label
            .map_or_else(String::new, |l| fields[l].clone());
        let in_group = columns
            .group
            .map_or_else(String::new, |g| fields[g].clone());
        let entry = series.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            LongSeries {
                first: *line,
                label: here.clone(),
                group: in_group.clone(),
                steps: Vec::new(),
            }
        });
        if entry.label != here {
            return Err(at(format!(
                "series {key:?} has label {here:?} here but {:?} on line {}: expected one label per series",
                entry.label, entry.first
            )));
        }
        if entry.group != in_group {
            return Err(at(format!(
                "series {key:?} is in group {in_group:?} here but {:?} on line {}: expected one group per series",
                entry.group, entry.first
            )));
        }
        entry.steps.push((t, *line, values));
    }
    Ok((order, series))
}

/// The time of the `k`th row of a long CSV (`fields`): its `time` column's value, or `k`
/// without one.
fn time_of(
    k: usize,
    fields: &[String],
    time: Option<usize>,
    header: &[String],
) -> Result<f64, String> {
    match time {
        None => Ok(k as f64),
        Some(c) => match fields[c].parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!(
                "time {:?} in column {:?}: expected a finite number",
                fields[c], header[c]
            )),
        },
    }
}
