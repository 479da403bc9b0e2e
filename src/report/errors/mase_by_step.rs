//! Forecasts of several steps: the selected width's test MASE at each step ahead beside
//! AutoETS's and the seasonal-naive forecast's on the same targets (`mase_by_step`).
use super::*;

/// The selected width (H) and, per step ahead, the MASE of the LSTM, AutoETS and seasonal
/// naive (`mase_steps`).
pub(super) struct MaseByStep {
    pub(super) units: i64,
    pub(super) steps: Vec<[Option<f64>; 3]>,
}

impl Figure for MaseByStep {
    fn name(&self) -> &'static str {
        "mase_by_step"
    }
    fn size(&self) -> (u32, u32) {
        (640, 420)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let line = |j: usize| -> Vec<(f64, f64)> {
            self.steps
                .iter()
                .enumerate()
                .filter_map(|(k, v)| Some(((k + 1) as f64, v[j]?)))
                .collect()
        };
        let (model, ets, snaive) = (line(0), line(1), line(2));
        let hi = model
            .iter()
            .chain(&ets)
            .chain(&snaive)
            .map(|p| p.1)
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let n = self.steps.len() as f64;
        let mut chart = chart_builder(root, s).build_cartesian_2d(0.6..n + 0.4, 0.0..hi * 1.4)?;
        axes!(
            chart,
            s,
            "step ahead",
            "test MASE (MAE / in-sample seasonal-naive MAE)",
            &|v: &f64| format!("{}", v.round() as i64),
            &error_label,
            self.steps.len().min(12)
        );
        reference_line(&mut chart, s, snaive, 4.0, "seasonal-naive forecast")?;
        super::test_figures::ets_line(&mut chart, s, ets, "AutoETS")?;
        let c = colour(0);
        chart
            .draw_series(LineSeries::new(model.clone(), s.line(c, 2.0)))?
            .label(format!("LSTM, H = {} (mean over seeds)", self.units))
            .legend(mark!(s, c, false, false));
        chart.draw_series(model.iter().map(|&p| Circle::new(p, s.px(2.5), s.fill(c))))?;
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}
