/*!
Labelled sequences from CSV files with a header row, in one of two layouts (`csv_layout`).

```text
wide (default): one series per row,      long: one timestep per row,
a label column, every other column       rows of a series share an id,
a timestep (univariate)                  every other column a feature

label,t1,t2,t3,t4                        id,time,label,x,y
walk,0.1,0.2,0.3,0.4                     s1,0,walk,0.1,1.0
run,1.0,0.9,0.8,                         s1,1,walk,0.2,1.1
                                         s2,0,run,1.0,0.5
```
Wide rows may be shorter series: empty cells at the end of a row are not part of it (a gap
before a value is an error). In long format the rows of a series need not be adjacent; they are
ordered by the time column when `time_column` names one, else kept in file order, and every row
of a series must carry the same label. Column names are set with `label_column` (default
`label`), `id_column` (`id`) and `time_column` (none). Errors name the file and line.
*/
mod long;

use std::path::Path;

use super::series::{distinct_header, parse_value, read_text, Case, SeriesFile};
use crate::config::{CsvLayout, RunConfig};
use crate::error::UserError;
use long::Columns;

/// The CSV keys of a run config.
#[derive(Clone, Debug)]
pub struct Options {
    pub layout: CsvLayout,
    pub label: String,
    pub id: String,
    /// Empty: file order.
    pub time: String,
    /// Empty: none.
    pub group: String,
    /// A file without the label column is read as unlabelled (new data for `predict`).
    pub unlabelled_ok: bool,
}

impl Options {
    pub fn of(cfg: &RunConfig) -> Options {
        Options {
            layout: cfg.csv_layout,
            label: cfg.label_column.clone(),
            id: cfg.id_column.clone(),
            time: cfg.time_column.clone(),
            group: cfg.group_column.clone(),
            unlabelled_ok: false,
        }
    }
}

/// Reads and checks one CSV file.
pub fn read(path: &Path, opts: &Options) -> Result<SeriesFile, UserError> {
    let text = read_text(path)?;
    parse(&text, path, opts)
}

/// The rows of a CSV text with their 1-based lines, fields trimmed.
fn rows(text: &str, path: &Path) -> Result<Vec<(usize, Vec<String>)>, UserError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // Lines from byte offsets (the csv crate's own line count skips blank lines), counted on
    // from the previous record's: linear in the file, not in records times bytes.
    let mut counted = (0usize, 0usize); // (bytes scanned, newlines in them)
    let mut line_of = |byte: u64| {
        // A record's position may be the blank lines before it: skip them.
        let bytes = text.as_bytes();
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        if at < counted.0 {
            counted = (0, 0);
        }
        counted.1 += bytes[counted.0..at].iter().filter(|&&b| b == b'\n').count();
        counted.0 = at;
        1 + counted.1
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| line_of(p.byte()));
            UserError::data_at(path, line, format!("not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        let fields: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
        if fields.iter().all(String::is_empty) {
            continue;
        }
        out.push((line, fields));
    }
    Ok(out)
}

/// Parses a CSV file of a series set, wide or long (`opts.layout`); the label column may be
/// absent where `opts.unlabelled_ok` (new series for `predict`).
pub fn parse(text: &str, path: &Path, opts: &Options) -> Result<SeriesFile, UserError> {
    let mut rows = rows(text, path)?.into_iter();
    let Some((header_line, header)) = rows.next() else {
        return Err(UserError::data(
            path,
            "empty file: expected a header row naming the columns, then data rows",
        ));
    };
    distinct_header(&header, path, header_line)?;
    let head = Header {
        names: &header,
        line: header_line,
        path,
    };
    let (label, group) = label_and_group(&head, opts)?;
    let rows: Vec<(usize, Vec<String>)> = rows.collect();
    if rows.is_empty() {
        return Err(head.error(
            "a header but no data rows: expected one row per series (wide) or timestep (long)"
                .into(),
        ));
    }
    check_rows(&rows, &header, header_line, label, opts, path)?;
    let cases = match opts.layout {
        CsvLayout::Wide => wide(&header, label, group, &rows, path)?,
        CsvLayout::Long => long::cases(
            &header,
            long_columns(&head, label, group, opts)?,
            &rows,
            path,
        )?,
    };
    let features = match opts.layout {
        CsvLayout::Wide => 1,
        CsvLayout::Long => cases[0].values.len() / cases[0].len,
    };
    Ok(SeriesFile {
        path: path.to_path_buf(),
        features,
        cases,
        labelled: label.is_some(),
        targets: false,
    })
}

/// A CSV file's header row: the column names, its line and the file, for finding columns by
/// name and for errors on that line.
struct Header<'a> {
    names: &'a [String],
    line: usize,
    path: &'a Path,
}

impl Header<'_> {
    /// The index of the column `name`, which the key `key` names; an error naming the header's
    /// columns when there is none.
    fn column(&self, name: &str, key: &str) -> Result<usize, UserError> {
        self.names.iter().position(|h| h == name).ok_or_else(|| {
            self.error(format!(
                "no column {name:?} in the header: expected the {key} column ({key} = {name:?}; columns: {})",
                self.names.join(",")
            ))
        })
    }

    /// An error on the header's line.
    fn error(&self, message: String) -> UserError {
        UserError::data_at(self.path, self.line, message)
    }
}

/// The label column (None where `opts.unlabelled_ok` and the header has none) and the group
/// column (None without a `group_column`, or where new data lacks it).
fn label_and_group(
    head: &Header,
    opts: &Options,
) -> Result<(Option<usize>, Option<usize>), UserError> {
    let label = match head.column(&opts.label, "label_column") {
        Ok(c) => Some(c),
        Err(_) if opts.unlabelled_ok => None,
        Err(e) => return Err(e),
    };
    // New data for `predict` may lack the group column: only training splits by it.
    let group = match opts.group.as_str() {
        "" => None,
        name => match head.column(name, "group_column") {
            Ok(c) if Some(c) == label => {
                return Err(head.error(format!(
                    "group_column = {name:?} is the label column: expected another column"
                )))
            }
            Ok(c) => Some(c),
            Err(_) if opts.unlabelled_ok => None,
            Err(e) => return Err(e),
        },
    };
    Ok((label, group))
}

/// The columns of a long CSV besides its features: the `label` and `group` found, the id and
/// the time (`opts.time`, if any); all different columns.
fn long_columns(
    head: &Header,
    label: Option<usize>,
    group: Option<usize>,
    opts: &Options,
) -> Result<Columns, UserError> {
    let id = head.column(&opts.id, "id_column")?;
    let time = if opts.time.is_empty() {
        None
    } else {
        Some(head.column(&opts.time, "time_column")?)
    };
    let named: Vec<usize> = [label, Some(id), time, group]
        .into_iter()
        .flatten()
        .collect();
    if (1..named.len()).any(|i| named[..i].contains(&named[i])) {
        return Err(
            head.error("the id, time, label and group columns must be different columns".into())
        );
    }
    Ok(Columns {
        label,
        id,
        time,
        group,
    })
}

/// Every data row is as wide as the header and, where labels are read, has one.
fn check_rows(
    rows: &[(usize, Vec<String>)],
    header: &[String],
    header_line: usize,
    label: Option<usize>,
    opts: &Options,
    path: &Path,
) -> Result<(), UserError> {
    let at = |line: usize, m: String| UserError::data_at(path, line, m);
    for (line, fields) in rows {
        if fields.len() != header.len() {
            return Err(at(
                *line,
                format!(
                    "{} fields: expected {} like the header (line {header_line})",
                    fields.len(),
                    header.len()
                ),
            ));
        }
        if label.is_some_and(|l| fields[l].is_empty()) {
            return Err(at(
                *line,
                format!(
                    "missing label: expected a class label in column {:?}",
                    opts.label
                ),
            ));
        }
    }
    Ok(())
}

fn wide(
    header: &[String],
    label: Option<usize>,
    group: Option<usize>,
    rows: &[(usize, Vec<String>)],
    path: &Path,
) -> Result<Vec<Case>, UserError> {
    if label.is_some() && header.len() < 2 {
        return Err(UserError::data_at(
            path,
            1,
            "only a label column: expected value columns too (csv_layout = \"wide\")",
        ));
    }
    let mut cases = Vec::with_capacity(rows.len());
    for (line, fields) in rows {
        let cells: Vec<(usize, &String)> = fields
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != label && Some(*i) != group)
            .collect();
        let len = cells
            .iter()
            .rposition(|(_, c)| !c.is_empty())
            .map_or(0, |p| p + 1);
        if len == 0 {
            return Err(UserError::data_at(
                path,
                *line,
                "no values: expected at least one number",
            ));
        }
        let values = cells[..len]
            .iter()
            .map(|(i, c)| parse_value(c, &format!("column {:?}", header[*i])))
            .collect::<Result<Vec<f32>, String>>()
            .map_err(|m| UserError::data_at(path, *line, m))?;
        cases.push(Case {
            values,
            len,
            label: label.map_or_else(String::new, |l| fields[l].clone()),
            group: group.map_or_else(String::new, |g| fields[g].clone()),
            line: *line,
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(layout: CsvLayout, time: &str) -> Options {
        Options {
            layout,
            label: "label".into(),
            id: "id".into(),
            time: time.into(),
            group: String::new(),
            unlabelled_ok: false,
        }
    }

    fn parse_str(text: &str, o: &Options) -> Result<SeriesFile, String> {
        parse(text, Path::new("d.csv"), o).map_err(|e| e.to_string())
    }

    #[test]
    fn a_group_column_is_each_series_group_and_never_a_value() {
        let o = Options {
            group: "subject".into(),
            ..opts(CsvLayout::Long, "t")
        };
        let text = "id,t,label,subject,x\ns1,0,a,p,1\ns1,1,a,p,2\ns2,0,b,q,3\n";
        let f = parse_str(text, &o).unwrap();
        assert_eq!(f.features, 1);
        assert_eq!(
            (f.cases[0].group.as_str(), f.cases[1].group.as_str()),
            ("p", "q")
        );
        assert_eq!(f.cases[0].values, [1.0, 2.0]);
        // A series in two groups is an error naming the line.
        let bad = "id,t,label,subject,x\ns1,0,a,p,1\ns1,1,a,q,2\n";
        let err = parse_str(bad, &o).unwrap_err();
        assert!(
            err.starts_with("d.csv:3: series \"s1\" is in group \"q\" here but \"p\" on line 2"),
            "{err}"
        );
        // Wide: the group column is skipped like the label.
        let w = Options {
            group: "subject".into(),
            ..opts(CsvLayout::Wide, "")
        };
        let f = parse_str("label,subject,t1,t2\na,p,1,2\n", &w).unwrap();
        assert_eq!(
            (f.cases[0].values.clone(), f.cases[0].group.clone()),
            (vec![1.0, 2.0], "p".to_string())
        );
        // Training data must have the column.
        let err = parse_str("label,t1\na,1\n", &w).unwrap_err();
        assert!(err.contains("no column \"subject\""), "{err}");
    }

    #[test]
    fn new_data_for_predict_may_lack_the_label_column() {
        let new = Options {
            unlabelled_ok: true,
            ..opts(CsvLayout::Wide, "")
        };
        let f = parse_str("t1,t2\n1,2\n3,\n", &new).unwrap();
        assert!(!f.labelled);
        assert_eq!(
            (f.cases[1].values.clone(), f.cases[1].label.as_str()),
            (vec![3.], "")
        );
        let long = Options {
            unlabelled_ok: true,
            ..opts(CsvLayout::Long, "t")
        };
        let f = parse_str("id,t,x\na,1,5\na,0,4\nb,0,7\n", &long).unwrap();
        assert_eq!(
            (f.cases.len(), f.cases[0].values.clone()),
            (2, vec![4., 5.])
        );
        // Training data (and a file with the column) still needs its labels.
        assert!(parse_str("t1,t2\n1,2\n", &opts(CsvLayout::Wide, ""))
            .unwrap_err()
            .contains("no column \"label\""));
        assert!(parse_str("label,t1\n,2\n", &new)
            .unwrap_err()
            .contains("missing label"));
        assert!(parse_str("label,t1\na,2\n", &new).unwrap().labelled);
    }

    #[test]
    fn wide_rows_are_series_and_trailing_blanks_shorten_them() {
        let f = parse_str(
            "t1,t2,label,t3\n1,2,a,3\n\n4,5,\"b c\",\n",
            &opts(CsvLayout::Wide, ""),
        )
        .unwrap();
        assert_eq!(f.features, 1);
        assert_eq!(f.cases[0].values, [1., 2., 3.]);
        assert_eq!(
            (f.cases[1].len, f.cases[1].line, f.cases[1].label.as_str()),
            (2, 4, "b c")
        );
    }

    #[test]
    fn long_rows_group_by_id_sorted_by_time() {
        let text = "id,time,label,x,y\ns2,1,run,5,6\ns1,1,walk,3,4\ns1,0,walk,1,2\ns2,0,run,7,8\ns2,2,run,9,9\n";
        let f = parse_str(text, &opts(CsvLayout::Long, "time")).unwrap();
        assert_eq!(f.features, 2);
        assert_eq!(f.cases.len(), 2);
        assert_eq!((f.cases[0].label.as_str(), f.cases[0].line), ("run", 2));
        assert_eq!(f.cases[0].values, [7., 8., 5., 6., 9., 9.]);
        assert_eq!(f.cases[1].values, [1., 2., 3., 4.]);
        // Without a time column, file order.
        let f = parse_str(text, &opts(CsvLayout::Long, "")).unwrap();
        assert_eq!(f.features, 3);
        assert_eq!(f.cases[1].values, [1., 3., 4., 0., 1., 2.]);
    }

    #[test]
    fn bad_files_name_the_line_and_what_is_expected() {
        let wide = opts(CsvLayout::Wide, "");
        let long = opts(CsvLayout::Long, "time");
        for (text, o, want) in [
            ("", &wide, "d.csv: empty file"),
            ("label,a\n", &wide, "d.csv:1: a header but no data rows"),
            (
                "lab,a\nx,1\n",
                &wide,
                "d.csv:1: no column \"label\" in the header: expected the label_column column",
            ),
            (
                "label,a,b\nx,1,2\ny,1\n",
                &wide,
                "d.csv:3: 2 fields: expected 3 like the header",
            ),
            ("label,a,b\nx,1,2\n,1,2\n", &wide, "d.csv:3: missing label"),
            (
                "label,a,b\nx,1,zz\n",
                &wide,
                "d.csv:2: \"zz\" in column \"b\": expected a number",
            ),
            (
                "label,a,b\nx,nan,1\n",
                &wide,
                "d.csv:2: NaN in column \"a\": expected a finite number",
            ),
            (
                "label,a,b\nx,-inf,1\n",
                &wide,
                "d.csv:2: -inf in column \"a\": expected a finite number",
            ),
            (
                "label,a,b\nx,,1\n",
                &wide,
                "d.csv:2: missing value \"\" in column \"a\"",
            ),
            ("label,a,b\nx,,\n", &wide, "d.csv:2: no values"),
            (
                "id,label,x\ns,a,1\n",
                &long,
                "d.csv:1: no column \"time\" in the header",
            ),
            (
                "id,time,label,x\ns,0,a,1\ns,1,b,2\n",
                &long,
                "d.csv:3: series \"s\" has label \"b\" here but \"a\" on line 2",
            ),
            (
                "id,time,label,x\ns,0,a,1\ns,0,a,2\n",
                &long,
                "d.csv:3: series \"s\" has time 0 twice (also line 2)",
            ),
            (
                "id,time,label,x\ns,x,a,1\n",
                &long,
                "d.csv:2: time \"x\" in column \"time\": expected a finite number",
            ),
            ("id,time,label,x\n,0,a,1\n", &long, "d.csv:2: missing id"),
            (
                "id,time,label\ns,0,a\n",
                &long,
                "d.csv:1: no feature columns",
            ),
        ] {
            let e = parse_str(text, o).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
