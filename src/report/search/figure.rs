/*!
`search_keys.{svg,png}`: the validation score of each trial against each drawn key, one small
panel a key (three a row), the best trial by validation a triangle, the key's η² in the panel's
title. Log ranges on a log axis, uniform ones on a linear axis, lists as evenly spaced
categories in the order written.
*/
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Key, Scale, Trials};
use crate::config::{Range, Task};
use crate::style::{chart_builder, colour, short_number, ticks_125, Drawn, Figure, Style, GRID};

/// Panels per row, and one panel's size in SVG pixels.
const COLUMNS: usize = 3;
const PANEL: (u32, u32) = (400, 340);

/// The validation score against each drawn key of a search.
pub struct SearchKeys<'a>(pub &'a Trials<'a>);

impl Figure for SearchKeys<'_> {
    fn name(&self) -> &'static str {
        super::FIGURE
    }
    fn size(&self) -> (u32, u32) {
        let (cols, rows) = grid(self.0.keys.len());
        (PANEL.0 * cols as u32, PANEL.1 * rows as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let (cols, rows) = grid(self.0.keys.len());
        let areas = root.split_evenly((rows, cols));
        for (key, area) in self.0.keys.iter().zip(&areas) {
            panel(area, s, self.0, key)?;
        }
        Ok(())
    }
}

/// Columns and rows of `n` panels.
fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, COLUMNS);
    (cols, n.max(1).div_ceil(cols))
}

/// One key's panel.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    t: &Trials,
    key: &Key,
) -> Drawn<DB> {
    let axis = XAxis::of(t, key);
    let percent = t.task == Task::Classify;
    let shown = |v: f64| if percent { 100.0 * v } else { v };
    let pts: Vec<(f64, f64)> = (0..t.groups.len())
        .map(|i| (axis.x(key.values[i]), shown(t.score(i))))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (y0, y1) = crate::report::figures::padded(pts.iter().map(|p| p.1), 0.12);
    let title = match key.importance {
        Some(e) => format!("{}: η² = {e:.2}", key.name),
        None => format!("{}: η² –", key.name),
    };
    let mut chart = chart_builder(area, s)
        .caption(title, s.axis())
        .build_cartesian_2d(
            Ticked {
                lo: axis.lo,
                hi: axis.hi,
                ticks: axis.ticks.clone(),
            },
            y0..y1,
        )?;
    let span = y1 - y0;
    axes!(
        chart,
        s,
        axis.desc.as_str(),
        t.score_name(),
        &|v: &f64| axis.label(*v),
        &|v: &f64| match (percent, span) {
            (true, s) if s >= 2.0 => format!("{v:.0}"),
            (true, _) => format!("{v:.1}"),
            (false, s) if s < 0.2 => format!("{v:.3}"),
            (false, _) => format!("{v:.2}"),
        }
    );
    chart.draw_series(
        pts.iter()
            .map(|&p| Circle::new(p, s.px(4.5), s.fill(colour(0)))),
    )?;
    let best = axis.x(key.values[0]);
    let best = (best, shown(t.score(0)));
    if best.0.is_finite() && best.1.is_finite() {
        chart.draw_series([TriangleMarker::new(best, s.px(8.0), s.fill(colour(1)))])?;
    }
    Ok(())
}

/// A panel's x axis: where values go, its bounds, ticks, title and labels.
struct XAxis {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    desc: String,
}

impl XAxis {
    /// The axis of `key`: over its range's bounds, or its list's categories.
    fn of(t: &Trials, key: &Key) -> XAxis {
        let bounds = match t.search.ranges.get(&key.name) {
            Some(Range::LogUniform([a, b]) | Range::Uniform([a, b])) => (*a, *b),
            Some(Range::IntLog([a, b]) | Range::Int([a, b])) => (*a as f64, *b as f64),
            None => (0.0, 0.0),
        };
        let scale = key.scale.clone();
        let (lo, hi, ticks, desc) = match &scale {
            Scale::Log => {
                let (a, b) = (bounds.0.log10(), bounds.1.log10());
                let mut ticks: Vec<f64> = ticks_125(bounds.0, bounds.1);
                if ticks.len() < 2 {
                    ticks = vec![bounds.0, bounds.1];
                }
                let ticks = ticks.iter().map(|v| v.log10()).collect();
                let pad = 0.06 * (b - a);
                (a - pad, b + pad, ticks, format!("{} (log scale)", key.name))
            }
            Scale::Linear => {
                let pad = 0.06 * (bounds.1 - bounds.0);
                let ticks = nice_ticks(bounds.0, bounds.1);
                (bounds.0 - pad, bounds.1 + pad, ticks, key.name.clone())
            }
            Scale::Categories(c) => {
                let ticks = (0..c.len()).map(|i| i as f64).collect();
                (-0.5, c.len() as f64 - 0.5, ticks, key.name.clone())
            }
        };
        XAxis {
            scale,
            lo,
            hi,
            ticks,
            desc,
        }
    }

    /// Where a key value (a category's index for lists) goes on the axis.
    fn x(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log if v > 0.0 => v.log10(),
            Scale::Log => f64::NAN,
            _ => v,
        }
    }

    /// A tick's label.
    fn label(&self, x: f64) -> String {
        match &self.scale {
            Scale::Log => short_number(10f64.powf(x)),
            Scale::Linear => trim_number(x),
            Scale::Categories(c) => c.get(x.round() as usize).cloned().unwrap_or_default(),
        }
    }
}

/// A linear axis from `lo` to `hi` with ticks exactly at `ticks` (on a log axis, the log10 of
/// its values; on a list's, each category's index).
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let u = (v - self.lo) / (self.hi - self.lo);
        limit.0 + ((limit.1 - limit.0) as f64 * u + 1e-3).floor() as i32
    }
    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// About five ticks at 1, 2 or 5 times a power of ten, from `lo` to `hi`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 {
        return vec![lo];
    }
    let base = 10f64.powf((span / 5.0).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|st| span / st <= 6.0)
        .unwrap_or(10.0 * base);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A linear tick's value, without trailing zeros: 0.1, 0.25, 64.
fn trim_number(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 0.5),
            vec![0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5]
        );
        assert_eq!(trim_number(0.30000000000000004), "0.3");
        assert_eq!(
            nice_ticks(8.0, 64.0),
            vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(grid(4), (3, 2));
        assert_eq!(grid(2), (2, 1));
    }
}
