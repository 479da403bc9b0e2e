/*!
`capacity.{svg,png}`: on the left, the bits each width memorised against its parameters (log
scales): the largest set fitted, a bar up to the next set, which it did not fit, an upward
triangle where the width fitted all it was given (a lower bound), and, thinner, the most bits
of a partial fit (the only mark of a width that fitted no set); Collins et al.'s
5 bits per parameter is a grey guide. On the right, where the sweep has them, the same
widths on the data's own labels: the gap between the training fit and the test accuracy
against the training-set size, one line per width.
*/
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Capacity, COLLINS_BITS_PER_PARAM};
use crate::style::{
    chart_builder, colour, reference_line, short_count, ticks_125, width_notes, Drawn, Figure,
    Style, GREY, GRID,
};

/// The two panels of a capacity sweep.
pub struct CapacityFigure<'a>(pub &'a Capacity);

impl Figure for CapacityFigure<'_> {
    fn name(&self) -> &'static str {
        super::FIGURE
    }
    fn size(&self) -> (u32, u32) {
        match self.0.given.is_empty() {
            true => (760, 480),
            false => (1280, 500),
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        if self.0.given.is_empty() {
            return bits_panel(root, s, self.0);
        }
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);
        bits_panel(&left, s, self.0)?;
        gap_panel(&right, s, self.0)
    }
}

/// A log axis from `lo` to `hi` widened by `pad` on each side.
fn widened(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let (lo, hi) = (lo.max(1.0), hi.max(lo.max(1.0) * 2.0));
    (lo / pad, hi * pad)
}

/// A chart with log scales on both axes.
type LogLog<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
        plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
    >,
>;

/// The bits that all labels of the largest set hold: no width can show more.
fn ceiling(c: &Capacity) -> (usize, f64) {
    let largest = c.random.iter().map(|r| r.size).max().unwrap_or(0);
    (largest, largest as f64 * (c.classes.max(2) as f64).log2())
}

/// Bits memorised against parameters, with the 5-bits-per-parameter guide.
fn bits_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    c: &Capacity,
) -> Drawn<DB> {
    let ys = c.widths.iter().flat_map(|w| {
        [
            w.fitted_bits(c.classes),
            w.missed_bits(c.classes).unwrap_or(0.0),
            w.partial_bits,
        ]
    });
    let ys: Vec<f64> = ys.filter(|y| *y > 0.0).collect();
    let params = || c.widths.iter().map(|w| w.params as f64);
    let (x0, x1) = widened(
        params().fold(f64::INFINITY, f64::min),
        params().fold(0.0, f64::max),
        1.6,
    );
    let top = ceiling(c).1;
    let (y0, y1) = widened(
        ys.iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(guide(x0)),
        ys.iter()
            .copied()
            .fold(0.0, f64::max)
            .max(guide(x1))
            .max(top),
        1.3,
    );
    let mut chart = chart_builder(area, s)
        .caption("random labels: bits memorised", s.axis())
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ticks_125(x0, x1)),
            (y0..y1).log_scale().with_key_points(ticks_125(y0, y1)),
        )?;
    axes!(
        chart,
        s,
        "trainable parameters (log scale)",
        "bits memorised (log scale)",
        &|v: &f64| short_count(*v),
        &|v: &f64| short_count(*v)
    );
    guides(&mut chart, s, c, (x0, x1))?;
    partial(&mut chart, s, c)?;
    widths(&mut chart, s, c)?;
    legend!(chart, s, SeriesLabelPosition::UpperLeft);
    Ok(())
}

/// Collins et al.'s bits per parameter.
fn guide(params: f64) -> f64 {
    COLLINS_BITS_PER_PARAM * params
}

/// The grey guides: 5 bits per parameter (dashed) and the largest set's labels (dotted).
fn guides<'a, DB: DrawingBackend + 'a>(
    chart: &mut LogLog<'a, DB>,
    s: &Style,
    c: &Capacity,
    (x0, x1): (f64, f64),
) -> Drawn<DB> {
    reference_line(
        chart,
        s,
        vec![(x0, guide(x0)), (x1, guide(x1))],
        4.0,
        "5 bits per parameter (Collins et al. 2017)",
    )?;
    let (largest, top) = ceiling(c);
    let (st, dot, gap) = (*s, s.px(2.0), s.px(4.0));
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x0, top), (x1, top)],
            dot,
            gap,
            s.line(GREY, 1.2),
        ))?
        .label(format!(
            "all {} labels of the largest set",
            crate::summary::thousands(largest as i64)
        ))
        .legend(move |(x, y)| {
            plotters::element::DashedPathElement::new(
                vec![(x, y), (x + st.px(28.0), y)],
                dot,
                gap,
                st.line(GREY, 1.2),
            )
        });
    Ok(())
}

/// The most bits of a partial fit per width: a thin line, its points hollow.
fn partial<'a, DB: DrawingBackend + 'a>(
    chart: &mut LogLog<'a, DB>,
    s: &Style,
    c: &Capacity,
) -> Drawn<DB> {
    let c2 = colour(2);
    let pts: Vec<(f64, f64)> = c
        .widths
        .iter()
        .filter(|w| w.partial_bits > 0.0)
        .map(|w| (w.params as f64, w.partial_bits))
        .collect();
    if pts.is_empty() {
        return Ok(());
    }
    chart
        .draw_series(LineSeries::new(pts.clone(), s.line(c2, 1.2)))?
        .label("partial fits counted: most N · I(a) of any set")
        .legend(mark!(s, c2, false, false));
    chart.draw_series(
        pts.iter()
            .map(|&p| Circle::new(p, s.px(3.5), s.line(c2, 1.2))),
    )?;
    Ok(())
}

/// Each width's largest set fitted (an upward triangle where it fitted all it was given),
/// joined, with a bar up to the set it missed, and its `H=` note.
fn widths<'a, DB: DrawingBackend + 'a>(
    chart: &mut LogLog<'a, DB>,
    s: &Style,
    c: &Capacity,
) -> Drawn<DB> {
    let (c0, c1, tri) = (colour(0), colour(1), s.px(6.5));
    let fitted: Vec<(f64, f64)> = c
        .widths
        .iter()
        .filter(|w| w.fitted.is_some())
        .map(|w| (w.params as f64, w.fitted_bits(c.classes)))
        .collect();
    chart
        .draw_series(LineSeries::new(fitted.clone(), s.line(c0, 2.0)))?
        .label("largest set fitted (≥ 98 %), a bar up to the next, not fitted")
        .legend(mark!(s, c0, false, false));
    // Each note's place and width, pushed together.
    let mut notes: Vec<((f64, f64), i64)> = Vec::new();
    for w in &c.widths {
        let x = w.params as f64;
        let (low, high) = (w.fitted_bits(c.classes), w.missed_bits(c.classes));
        if let (true, Some(h)) = (low > 0.0, high) {
            chart.draw_series(LineSeries::new([(x, low), (x, h)], s.line(c0, 1.2)))?;
            // A cap at the top of the bar, a little either side of it.
            let cap = [(x / 1.08, h), (x * 1.08, h)];
            chart.draw_series([PathElement::new(cap, s.line(c0, 1.2))])?;
        }
        if low <= 0.0 {
            // Fitted no size: only its partial fits are drawn, and its note goes there.
            if w.partial_bits > 0.0 {
                notes.push(((x, w.partial_bits), w.units));
            }
            continue;
        }
        match w.lower_bound() {
            true => chart.draw_series([TriangleMarker::new((x, low), tri, s.fill(c1))])?,
            false => chart.draw_series([Circle::new((x, low), s.px(4.5), s.fill(c0))])?,
        };
        notes.push(((x, low), w.units));
    }
    if c.widths.iter().any(|w| w.lower_bound()) {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("fitted every size given: at least this")
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), tri, c1.filled()));
    }
    let places: Vec<(f64, f64)> = notes.iter().map(|n| n.0).collect();
    width_notes(chart, s, &places, notes.iter().map(|n| n.1))
}

/// The data's own labels: training fit minus test accuracy (points) against the training-set
/// size, one line per width.
fn gap_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    c: &Capacity,
) -> Drawn<DB> {
    let gap = |g: &super::Cell| 100.0 * (g.fit - g.test_acc);
    let sizes: Vec<f64> = c.given.iter().map(|g| g.size as f64).collect();
    let (lo, hi) = sizes
        .iter()
        .fold((f64::INFINITY, 0f64), |(a, b), &n| (a.min(n), b.max(n)));
    let (x0, x1) = widened(lo, hi, 1.35);
    let (y0, y1) = crate::report::figures::padded(c.given.iter().map(gap), 0.12);
    let (y0, y1) = (y0.min(0.0), y1);
    let mut ticks: Vec<f64> = sizes.clone();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let mut chart = chart_builder(area, s)
        .caption(
            "the data's own labels: training fit − test accuracy",
            s.axis(),
        )
        .build_cartesian_2d((x0..x1).log_scale().with_key_points(ticks), y0..y1)?;
    axes!(
        chart,
        s,
        "training examples N (log scale)",
        "generalisation gap (points)",
        &|v: &f64| short_count(*v),
        &|v: &f64| format!("{v:.0}")
    );
    let mut units: Vec<i64> = c.given.iter().map(|g| g.units).collect();
    units.dedup();
    for (i, h) in units.iter().enumerate() {
        let pts: Vec<(f64, f64)> = c
            .given
            .iter()
            .filter(|g| g.units == *h)
            .map(|g| (g.size as f64, gap(g)))
            .collect();
        let col = colour(i);
        chart
            .draw_series(LineSeries::new(pts.clone(), s.line(col, 2.0)))?
            .label(format!("H={h}"))
            .legend(mark!(s, col, false, false));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(3.5), s.fill(col))))?;
    }
    legend!(chart, s, SeriesLabelPosition::UpperRight);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_axis_is_widened_and_never_empty() {
        assert_eq!(widened(100.0, 1000.0, 2.0), (50.0, 2000.0));
        let (lo, hi) = widened(0.0, 0.0, 1.5);
        assert!(lo > 0.0 && hi > lo);
    }
}
