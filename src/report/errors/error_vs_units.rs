//! Test and validation error against num_units, with the baselines (`error_vs_units`).
use super::*;

/// Test and validation error against num_units, with the baselines.
pub(super) struct ErrorVsUnits<'a>(pub(super) &'a View<'a>);

impl Figure for ErrorVsUnits<'_> {
    fn name(&self) -> &'static str {
        "error_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let v = self.0;
        let d = v.data;
        let (x0, x1) = d.units_range();
        let (y0, y1) = v.range(d.rows.iter().flat_map(|r| {
            [
                r.test_error.mean - r.test_error.std,
                r.test_error.mean + r.test_error.std,
                r.val_error.mean - r.val_error.std,
                r.val_error.mean + r.val_error.std,
            ]
        }));
        let mut chart = chart_builder(root, s)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(d.widths()), y0..y1)?;
        let y_axis = match v.metric {
            "MASE" => "MASE (MAE / in-sample seasonal-naive MAE)".to_string(),
            _ => format!("RMSE ({})", v.target),
        };
        axes!(
            chart,
            s,
            &d.units_axis(),
            &y_axis,
            &units_label,
            &error_label
        );
        v.draw_baselines(&mut chart, s, x0, x1)?;
        for k in 0..d.variants.len() {
            let rows = d.of(k);
            let (ct, cv) = (colour(2 * k), colour(2 * k + 1));
            let val: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, r.val_error.mean))
                .collect();
            let test: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (r.num_units as f64, r.test_error.mean))
                .collect();
            let metric = v.metric;
            validation_line(
                &mut chart,
                s,
                cv,
                format!("{}validation {metric}", d.prefix(k)),
                &val,
            )?;
            test_line(
                &mut chart,
                s,
                ct,
                format!("{}test {metric} ({})", d.prefix(k), d.spread()),
                &test,
                &bars(&rows, |r| r.num_units as f64, |r| &r.test_error),
            )?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperRight);
        let _ = v.select;
        Ok(())
    }
}
