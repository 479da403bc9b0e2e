//! Test accuracy against parameter count (`accuracy_vs_params`).
use super::*;

/// Test accuracy against parameter count.
pub struct AccuracyVsParams<'a>(pub &'a Data<'a>);

impl Figure for AccuracyVsParams<'_> {
    fn name(&self) -> &'static str {
        "accuracy_vs_params"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.params_range();
        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                ]
            }),
            0.12,
        );
        let mut chart = params_chart(
            root,
            s,
            (x0, x1),
            (y0, y1),
            "test accuracy (%)",
            &percent_label(y1 - y0),
        )?;
        for v in 0..d.variants.len() {
            let line = d.line(v, |r| (r.params as f64, pct(r.test_acc.mean)));
            let (rows, c, pts) = (&line.rows, line.colour, &line.pts);
            test_line(
                &mut chart,
                s,
                c,
                format!("{}test accuracy ({})", d.prefix(v), d.spread()),
                pts,
                &pct_bars(rows, |r| r.params as f64, |r| &r.test_acc),
            )?;
            width_notes(&mut chart, s, pts, rows.iter().map(|r| r.num_units))?;
        }
        legend!(chart, s, SeriesLabelPosition::LowerRight);
        Ok(())
    }
}
