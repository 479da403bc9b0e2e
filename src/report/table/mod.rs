/*!
One table, many formats: the model a report's summary table is built as, once per task
(`report::summary`), and the renderers that write it, one small file per format behind `Render`.

A table is columns of cells. Each column names the views that show it, with its heading in each:
the `Screen` view is the reader's full table (Markdown), `Print` the narrower one for a paper
(LaTeX), `Data` every number at full precision, one value a field (CSV). A cell says what it
holds (words, a count, an estimate, nothing) and each renderer spells that its own way: LaTeX
escapes text, groups thousands with `{,}` and sets estimates in math mode. `OUTPUTS` lists the
files a table is written to; a new format is a renderer file and a line there.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::store::write_atomic;

mod csv;
mod latex;
mod markdown;

pub use markdown::{md_cell, Markdown};

/// Who a column is for: one view per kind of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The reader's full table (Markdown).
    Screen,
    /// The paper's table, the reader's less the extra columns (LaTeX).
    Print,
    /// Every number at full precision, for other programs (CSV).
    Data,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// What a cell holds; each renderer spells it its own way.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Words or a number as written: as is, escaped in LaTeX.
    Text(String),
    /// A count: "82,186" ("82{,}186" in LaTeX), the bare digits in CSV.
    Count(i64),
    /// A mean and its spread, already formatted: "98.12 ± 0.05", or "98.12" without a spread;
    /// in math mode in LaTeX.
    Estimate {
        mean: String,
        spread: Option<String>,
    },
    /// Nothing to show: "–" ("--" in LaTeX), empty in CSV.
    Empty,
}

impl Cell {
    pub fn text(value: impl ToString) -> Cell {
        Cell::Text(value.to_string())
    }
}

/// A column: its heading in each view that shows it, its alignment and its cells, one a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    headings: [Option<String>; 3],
    pub align: Align,
    pub cells: Vec<Cell>,
}

impl Column {
    /// A right-aligned column that no view shows yet.
    pub fn new(cells: Vec<Cell>) -> Column {
        Column {
            headings: [None, None, None],
            align: Align::Right,
            cells,
        }
    }

    /// Shown in `view` under `heading` (plain text; renderers escape it).
    pub fn in_view(mut self, view: View, heading: impl ToString) -> Column {
        self.headings[view as usize] = Some(heading.to_string());
        self
    }

    pub fn screen(self, heading: impl ToString) -> Column {
        self.in_view(View::Screen, heading)
    }

    pub fn print(self, heading: impl ToString) -> Column {
        self.in_view(View::Print, heading)
    }

    pub fn data(self, heading: impl ToString) -> Column {
        self.in_view(View::Data, heading)
    }

    pub fn left(mut self) -> Column {
        self.align = Align::Left;
        self
    }

    /// The heading in `view`, if the view shows this column.
    pub fn heading(&self, view: View) -> Option<&str> {
        self.headings[view as usize].as_deref()
    }
}

/// A table: columns of equal length, a caption (what the numbers are, for the LaTeX file's
/// comment) and a note to print under it (the Markdown) and beside the caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub caption: String,
    pub note: Option<String>,
}

impl Table {
    /// The columns `view` shows, in order, with their headings.
    pub fn shown(&self, view: View) -> Vec<(&str, &Column)> {
        self.columns
            .iter()
            .filter_map(|c| Some((c.heading(view)?, c)))
            .collect()
    }

    pub fn row_count(&self) -> usize {
        self.columns.first().map_or(0, |c| c.cells.len())
    }
}

/// A table format.
pub trait Render {
    fn render(&self, table: &Table) -> Result<String>;
}

/// A file a table is written to: its name, words shown beside its link, and its renderer.
pub struct Output {
    pub file: &'static str,
    pub note: &'static str,
    pub renderer: &'static dyn Render,
}

/// Every format a summary table is written in, in the order report.md links them.
pub const OUTPUTS: &[Output] = &[
    Output {
        file: "summary.md",
        note: "",
        renderer: &Markdown,
    },
    Output {
        file: "summary.tex",
        note: " (booktabs)",
        renderer: &latex::Latex,
    },
    Output {
        file: "summary.csv",
        note: "",
        renderer: &csv::Csv,
    },
];

/// Writes `table` in every format into `dir`; returns the paths.
pub fn write_all(table: &Table, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for o in OUTPUTS {
        let path = dir.join(o.file);
        write_atomic(&path, o.renderer.render(table)?.as_bytes())?;
        out.push(path);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            columns: vec![
                Column::new(vec![Cell::text("a_b & #1")])
                    .left()
                    .screen("config")
                    .print("Config")
                    .data("config"),
                Column::new(vec![Cell::Count(82186)])
                    .screen("params")
                    .print("Params")
                    .data("params"),
                Column::new(vec![Cell::Estimate {
                    mean: "98.12".into(),
                    spread: Some("0.05".into()),
                }])
                .screen("test accuracy (%)")
                .print("Test accuracy (%)"),
                Column::new(vec![Cell::Empty])
                    .screen("1NN")
                    .print("1NN")
                    .data("nn"),
                Column::new(vec![Cell::text("0.981200")]).data("test_acc_mean"),
            ],
            caption: "Test accuracy: final epoch, mean ± std.".into(),
            note: Some("A note.\n".into()),
        }
    }

    #[test]
    fn each_format_shows_its_views_columns_in_its_own_spelling() {
        let t = table();
        assert_eq!(
            Markdown.render(&t).unwrap(),
            "| config | params | test accuracy (%) | 1NN |\n|:--|--:|--:|--:|\n\
             | a_b & #1 | 82,186 | 98.12 ± 0.05 | – |\n\nA note.\n"
        );
        assert_eq!(
            latex::Latex.render(&t).unwrap(),
            "% Generated by `rowseq report`; needs \\usepackage{booktabs}.\n\
             % Test accuracy: final epoch, mean $\\pm$ std. A note.\n\
             \\begin{tabular}{lrrr}\n\\toprule\n\
             Config & Params & Test accuracy (\\%) & 1NN \\\\\n\\midrule\n\
             a\\_b \\& \\#1 & 82{,}186 & $98.12 \\pm 0.05$ & -- \\\\\n\
             \\bottomrule\n\\end{tabular}\n"
        );
        assert_eq!(
            csv::Csv.render(&t).unwrap(),
            "config,params,nn,test_acc_mean\na_b & #1,82186,,0.981200\n"
        );
    }
}
