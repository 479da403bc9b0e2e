//! Test error against parameter count, with the baselines (`error_vs_params`).
use super::*;

/// Test error against parameter count, with the baselines.
pub(super) struct ErrorVsParams<'a>(pub(super) &'a View<'a>);

impl Figure for ErrorVsParams<'_> {
    fn name(&self) -> &'static str {
        "error_vs_params"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let d = v.data;
        let (x0, x1) = d.params_range();
        let (y0, y1) = v.range(d.rows.iter().flat_map(|r| {
            [
                r.test_error.mean - r.test_error.std,
                r.test_error.mean + r.test_error.std,
            ]
        }));
        let mut chart = params_chart(root, s, (x0, x1), (y0, y1), &v.axis(), &error_label)?;
        v.draw_baselines(&mut chart, s, x0, x1)?;
        for k in 0..d.variants.len() {
            let line = d.line(k, |r| (r.params as f64, r.test_error.mean));
            let (rows, c, pts) = (&line.rows, line.colour, &line.pts);
            test_line(
                &mut chart,
                s,
                c,
                format!("{}test {} ({})", d.prefix(k), v.metric, d.spread()),
                pts,
                &bars(rows, |r| r.params as f64, |r| &r.test_error),
            )?;
            width_notes(&mut chart, s, pts, rows.iter().map(|r| r.num_units))?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        Ok(())
    }
}
