//! Validation error per epoch, one line per width (`error_curves`).
use super::*;

/// Validation error per epoch, one line per width (mean over seeds).
pub(super) struct ErrorCurves<'a>(pub(super) &'a View<'a>);

impl Figure for ErrorCurves<'_> {
    fn name(&self) -> &'static str {
        "error_curves"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let rows: Vec<&Row> = v
            .data
            .rows
            .iter()
            .copied()
            .filter(|r| r.curve.iter().any(|e| e.val_error.is_finite()))
            .collect();
        let epochs = rows.iter().map(|r| r.curve.len()).max().unwrap_or(1).max(1) as f64;
        let (y0, y1) = v.range(
            rows.iter()
                .flat_map(|r| r.curve.iter().map(|e| e.val_error)),
        );
        let mut chart = chart_builder(root, s).build_cartesian_2d(0.5..epochs + 0.5, y0..y1)?;
        axes!(
            chart,
            s,
            "epoch",
            &format!("validation {}", v.metric),
            &|e: &f64| format!("{}", e.round() as i64),
            &error_label,
            10
        );
        for (i, r) in rows.iter().enumerate() {
            let c = colour(i);
            let pts: Vec<(f64, f64)> = r
                .curve
                .iter()
                .filter(|e| e.val_error.is_finite())
                .map(|e| (e.epoch as f64, e.val_error))
                .collect();
            let label = if v.data.variants.len() > 1 {
                format!("H = {} ({})", r.num_units, v.data.variants[r.variant])
            } else {
                format!("H = {}", r.num_units)
            };
            chart
                .draw_series(LineSeries::new(pts, s.line(c, 1.8)))?
                .label(label)
                .legend(mark!(s, c, false));
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        Ok(())
    }
}
