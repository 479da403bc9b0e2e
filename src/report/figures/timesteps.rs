//! Accuracy and cost against the timesteps a sequence is read in (`timesteps`).
use super::*;

/// Test accuracy (left) and training seconds per epoch (right) against the timesteps T a
/// sequence is read in (a swept `patch`), one line per width: what unrolling over time costs
/// and buys. Drawn only when the rows read more than one T.
pub struct Timesteps<'a>(pub &'a Data<'a>);

impl Figure for Timesteps<'_> {
    fn name(&self) -> &'static str {
        "timesteps"
    }
    fn size(&self) -> (u32, u32) {
        (1200, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let ts = d.timesteps();
        let lines = Lines {
            d,
            range: (ts[0] / 1.4, ts[ts.len() - 1] * 1.4),
            by_width: width_lines(d),
            ts,
        };
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);
        draw_accuracy_panel(&left, s, &lines)?;
        draw_cost_panel(&right, s, &lines)
    }
}

/// What both panels draw: the figure's data, the timesteps axis (its ticks and range) and one
/// line per width.
struct Lines<'a> {
    d: &'a Data<'a>,
    ts: Vec<f64>,
    range: (f64, f64),
    by_width: Vec<(i64, Vec<&'a Row>)>,
}

/// One line per width: its rows (those that recorded T) by T.
fn width_lines<'a>(d: &Data<'a>) -> Vec<(i64, Vec<&'a Row>)> {
    let mut widths: Vec<i64> = d.rows.iter().map(|r| r.num_units).collect();
    widths.sort_unstable();
    widths.dedup();
    // One line per width: its rows by T.
    widths
        .iter()
        .map(|&h| {
            let mut rows: Vec<&Row> = d
                .rows
                .iter()
                .copied()
                .filter(|r| r.num_units == h && r.timesteps.is_some())
                .collect();
            rows.sort_by_key(|r| r.timesteps);
            (h, rows)
        })
        .collect()
}

/// A row's T, as a value on the axis.
fn t_of(r: &Row) -> f64 {
    r.timesteps.unwrap_or(1) as f64
}

/// A timesteps tick's label: the whole number.
fn t_label(v: &f64) -> String {
    format!("{}", v.round() as i64)
}

/// The left panel: test accuracy against T, mean ± std over seeds, one line per width.
fn draw_accuracy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    lines: &Lines,
) -> Drawn<DB> {
    let (d, (x0, x1)) = (lines.d, lines.range);
    let (y0, y1) = padded(
        d.rows.iter().flat_map(|r| {
            [
                pct(r.test_acc.mean - r.test_acc.std),
                pct(r.test_acc.mean + r.test_acc.std),
            ]
        }),
        0.06,
    );
    let mut chart = chart_builder(area, s).build_cartesian_2d(
        (x0..x1).log_scale().with_key_points(lines.ts.clone()),
        y0..y1,
    )?;
    axes!(
        chart,
        s,
        "timesteps T (log₂ scale; values per step = 784 / T for MNIST)",
        "test accuracy (%)",
        &t_label,
        &percent_label(y1 - y0)
    );
    for (i, (h, rows)) in lines.by_width.iter().enumerate() {
        let c = colour(i);
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|r| (t_of(r), pct(r.test_acc.mean)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
            .label(format!("H = {h} ({})", d.spread()))
            .legend(mark!(s, c, false, false));
        error_bars(
            &mut chart,
            &pct_bars(rows, t_of, |r| &r.test_acc),
            s.line(c, 1.4),
            s.px(5.0),
        )?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
    }
    // Accuracy falls with T: the upper right is free.
    legend!(chart, s, SeriesLabelPosition::UpperRight);
    Ok(())
}

/// The right panel: training seconds per epoch against T on log axes, one line per width.
fn draw_cost_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    lines: &Lines,
) -> Drawn<DB> {
    let (d, (x0, x1)) = (lines.d, lines.range);
    let (lo, hi) = seconds_range(d);
    let yticks = log_ticks(lo, hi, 4);
    let mut chart = chart_builder(area, s).build_cartesian_2d(
        (x0..x1).log_scale().with_key_points(lines.ts.clone()),
        (lo..hi).log_scale().with_key_points(yticks),
    )?;
    axes!(
        chart,
        s,
        "timesteps T (log₂ scale)",
        "training time per epoch (s, log scale)",
        &t_label,
        &|v: &f64| short_number(*v)
    );
    for (i, (h, rows)) in lines.by_width.iter().enumerate() {
        let c = colour(i);
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|r| (t_of(r), r.seconds_per_epoch.mean))
            .filter(|p| p.1 > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
            .label(format!("H = {h}, measured on {}", d.devices))
            .legend(mark!(s, c, false, false));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
    }
    legend!(chart, s, SeriesLabelPosition::UpperLeft);
    Ok(())
}

/// The log axis of the positive mean seconds per epoch, a factor 1.6 wider on each side (0.01
/// to 10 when there is none).
fn seconds_range(d: &Data) -> (f64, f64) {
    let secs = d
        .rows
        .iter()
        .map(|r| r.seconds_per_epoch.mean)
        .filter(|v| *v > 0.0);
    let (lo, hi) = secs.fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    if lo.is_finite() {
        (lo / 1.6, hi * 1.6)
    } else {
        (0.01, 10.0)
    }
}
