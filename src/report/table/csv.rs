/*!
The `Data` view as CSV: a header of the columns' names, then one record a row.
*/
use anyhow::Result;

use super::{Cell, Render, Table, View};

pub struct Csv;

impl Render for Csv {
    fn render(&self, table: &Table) -> Result<String> {
        let shown = table.shown(View::Data);
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record(shown.iter().map(|(h, _)| *h))?;
        for i in 0..table.row_count() {
            w.write_record(shown.iter().map(|(_, c)| cell(&c.cells[i])))?;
        }
        Ok(String::from_utf8(w.into_inner()?)?)
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Estimate { mean, spread } => match spread {
            Some(s) => format!("{mean} ± {s}"),
            None => mean.clone(),
        },
        Cell::Empty => String::new(),
    }
}
