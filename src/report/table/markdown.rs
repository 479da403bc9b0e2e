/*!
The `Screen` view as a Markdown table, the note under it after a blank line.
*/
use std::fmt::Write as _;

use anyhow::Result;

use super::{Align, Cell, Render, Table, View};
use crate::summary::thousands;

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, table: &Table) -> Result<String> {
        let shown = table.shown(View::Screen);
        let mut out = String::new();
        row(&mut out, shown.iter().map(|(h, _)| h.to_string()));
        for (_, c) in &shown {
            out.push_str(match c.align {
                Align::Left => "|:--",
                Align::Right => "|--:",
            });
        }
        out.push_str("|\n");
        for i in 0..table.row_count() {
            row(&mut out, shown.iter().map(|(_, c)| cell(&c.cells[i])));
        }
        if let Some(note) = &table.note {
            let _ = write!(out, "\n{note}");
        }
        Ok(out)
    }
}

/// "| a | b |" and a newline.
fn row(out: &mut String, cells: impl Iterator<Item = String>) {
    let _ = writeln!(out, "| {} |", cells.collect::<Vec<_>>().join(" | "));
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Count(n) => thousands(*n),
        Cell::Estimate { mean, spread } => match spread {
            Some(s) => format!("{mean} ± {s}"),
            None => mean.clone(),
        },
        Cell::Empty => "–".to_string(),
    }
}

/// Text from the data or the disk (class names, labels, reasons) as a Markdown table cell:
/// HTML's special characters escaped, so that a class named `<script>` shows as text, and `|`
/// escaped, so that it stays one cell.
pub fn md_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_data_cannot_become_html_or_break_a_table() {
        assert_eq!(md_cell("7"), "7");
        assert_eq!(
            md_cell("<script>a|b</script> & co\n"),
            "&lt;script&gt;a\\|b&lt;/script&gt; &amp; co "
        );
    }
}
