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
        let (x0, x1) = (ts[0] / 1.4, ts[ts.len() - 1] * 1.4);
        let mut widths: Vec<i64> = d.rows.iter().map(|r| r.num_units).collect();
        widths.sort_unstable();
        widths.dedup();
        // One line per width: its rows by T.
        let lines: Vec<(i64, Vec<&Row>)> = widths
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
            .collect();
        let t_of = |r: &Row| r.timesteps.unwrap_or(1) as f64;
        let t_label = |v: &f64| format!("{}", v.round() as i64);
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);

        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                ]
            }),
            0.06,
        );
        let mut chart = chart_builder(&left, s)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(ts.clone()), y0..y1)?;
        axes!(
            chart,
            s,
            "timesteps T (log₂ scale; values per step = 784 / T for MNIST)",
            "test accuracy (%)",
            &t_label,
            &percent_label(y1 - y0)
        );
        for (i, (h, rows)) in lines.iter().enumerate() {
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

        let secs = d
            .rows
            .iter()
            .map(|r| r.seconds_per_epoch.mean)
            .filter(|v| *v > 0.0);
        let (lo, hi) = secs.fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if lo.is_finite() {
            (lo / 1.6, hi * 1.6)
        } else {
            (0.01, 10.0)
        };
        let yticks = log_ticks(lo, hi, 4);
        let mut chart = chart_builder(&right, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(ts),
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
        for (i, (h, rows)) in lines.iter().enumerate() {
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
}
