/*!
The search's section of `report.md`: method, trials and seed, the ranges as written, the figure
of the validation score against each drawn key, each key's η², and the trials ranked by
validation score (the first `TOP`, with their run ids).
*/
use std::fmt::Write as _;

use super::{Scale, Trials, FIGURE, TOP};
use crate::report::table::md_cell;

/// The section, or "" for a grid.
pub fn section(inputs: &crate::report::Inputs) -> String {
    match Trials::of(inputs) {
        Some(t) => {
            let mut out = header(&t);
            out.push_str(&importance(&t));
            out.push_str(&ranked(&t));
            out
        }
        None => String::new(),
    }
}

/// What was searched: the method, the trials, the seed, and every drawn key as written.
fn header(t: &Trials) -> String {
    let s = t.search;
    let mut out = String::from("## Search\n\n");
    if let Some(a) = s.early_stop {
        let _ = writeln!(
            out,
            "With successive halving ({}): the runs it stopped at a rung have no result, and \
             only those that reached the last rung are ranked.\n",
            a.text()
        );
    }
    if !s.draws() {
        let _ = writeln!(
            out,
            "A grid; {} configuration{} a result. The keys varied:\n",
            t.groups.len(),
            if t.groups.len() == 1 {
                " has"
            } else {
                "s have"
            }
        );
    } else {
        let _ = writeln!(
            out,
            "A `{}` search of {} trial{} (search_seed = {}); {} trial{} a result. The keys \
         drawn, as the sweep file writes them:\n",
            s.method_name(),
            s.trials,
            if s.trials == 1 { "" } else { "s" },
            s.search_seed,
            t.groups.len(),
            if t.groups.len() == 1 {
                " has"
            } else {
                "s have"
            },
        );
    }
    out.push_str("```toml\n");
    for k in &t.keys {
        let written = match (s.ranges.get(&k.name), t.record.grid.get(&k.name)) {
            (Some(r), _) => r.text(),
            (None, Some(vs)) => {
                let vs: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
                format!("[{}]", vs.join(", "))
            }
            (None, None) => "?".into(),
        };
        let _ = writeln!(out, "{} = {written}", k.name);
    }
    out.push_str("```\n\n");
    if !t.keys.is_empty() {
        let _ = writeln!(
            out,
            "![{FIGURE}]({FIGURE}.png)\n\nThe {} of each trial (mean over its seeds) against \
             each drawn key, one panel a key, the best trial marked with a triangle; test \
             scores are never used. Each panel's title gives the key's η². ([SVG]({FIGURE}.svg))\n",
            t.score_name()
        );
    }
    out
}

/// Each key's η², with how it is measured.
fn importance(t: &Trials) -> String {
    if t.keys.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Importance: η², the share of the validation score's variance explained by the key \
         alone; a rough guide with few trials. Lists group the trials by value; ranges group \
         them into at most 4 bins of equal count (two trials or more each) along the key (the \
         same bins on its log scale for log ranges). – where the trials' scores do not differ.\n\n",
    );
    out.push_str("| key | axis | η² |\n|---|---|--:|\n");
    for k in &t.keys {
        let axis = match &k.scale {
            Scale::Log => "log".to_string(),
            Scale::Linear => "linear".to_string(),
            Scale::Categories(c) => format!("{} choices", c.len()),
        };
        let eta = k.importance.map_or("–".into(), |e| format!("{e:.2}"));
        let _ = writeln!(out, "| {} | {axis} | {eta} |", md_cell(&k.name));
    }
    out.push('\n');
    out
}

/// The trials ranked by validation score, the first `TOP`.
fn ranked(t: &Trials) -> String {
    let mut out = String::new();
    let shown = t.groups.len().min(TOP);
    let _ = writeln!(
        out,
        "Trials ranked by validation score (best first; test scores do not choose; equal \
         scores put the smaller model first), {shown} of {}:\n",
        t.groups.len()
    );
    let names: Vec<String> = t.keys.iter().map(|k| md_cell(&k.name)).collect();
    let _ = writeln!(
        out,
        "| rank | {} | params | {} | seeds | run ids |",
        names.join(" | "),
        t.score_name()
    );
    let _ = writeln!(out, "|--:|{}--:|--:|--:|---|", "--:|".repeat(names.len()));
    for i in 0..shown {
        let g = &t.groups[i];
        let cells: Vec<String> = t
            .keys
            .iter()
            .map(|k| md_cell(&g.config.value_text(&k.name)))
            .collect();
        let mut ids: Vec<String> = g.run_ids.iter().map(|id| format!("`{id}`")).collect();
        ids.sort();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            i + 1,
            cells.join(" | "),
            crate::summary::thousands(g.params),
            t.score_cell(i),
            g.seeds.len(),
            ids.join(", ")
        );
    }
    out.push('\n');
    out
}
