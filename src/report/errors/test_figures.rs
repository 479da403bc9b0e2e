//! The selected width's test predictions: the forecast test stretch (`forecast_test`) and
//! regression's predictions against the truth (`predicted_vs_truth`). The forecast figure
//! draws the seasonal-naive and, where recorded, the AutoETS forecasts dashed, and shades the
//! LSTM's prediction intervals where the runs recorded them.
use super::*;
use plotters::coord::types::RangedCoordf64;

/// The selected width's test predictions over its seeds.
pub(super) struct TestFigure<'a> {
    pub(super) view: &'a View<'a>,
    pub(super) units: i64,
    pub(super) runs: &'a [&'a TestPredictions],
}

impl TestFigure<'_> {
    /// Row i's prediction, averaged over the runs that have it (rows are in the same order in
    /// every run of a configuration).
    fn mean_prediction(&self, i: usize) -> f64 {
        let vals: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.predicted.get(i).copied())
            .collect();
        vals.iter().sum::<f64>() / vals.len().max(1) as f64
    }

    /// Row i's bounds of the interval at `level`, averaged over the runs that recorded it.
    fn mean_bounds(&self, level: f64, i: usize) -> (f64, f64) {
        let both: Vec<(f64, f64)> = self
            .runs
            .iter()
            .flat_map(|r| r.bounds.iter().filter(|b| b.level == level))
            .filter_map(|b| Some((*b.lo.get(i)?, *b.hi.get(i)?)))
            .collect();
        let n = both.len().max(1) as f64;
        let sum = both.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        (sum.0 / n, sum.1 / n)
    }
}

/// One row of a shaded interval: the time step, its lower and its upper bound.
type Band = (f64, f64, f64);

/// Forecasting: the test stretch, one step ahead.
pub(super) struct ForecastTest<'a>(pub(super) &'a TestFigure<'a>);

impl Figure for ForecastTest<'_> {
    fn name(&self) -> &'static str {
        "forecast_test"
    }
    fn size(&self) -> (u32, u32) {
        (1000, 460)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let f = self.0;
        let series = ForecastSeries::of(f);
        let (x0, x1) = match (series.truth.first(), series.truth.last()) {
            (Some(a), Some(b)) => (a.0 - 0.5, b.0.max(a.0 + 1.0) + 0.5),
            _ => (0.0, 1.0),
        };
        let (y0, y1) = series.y_range();
        let mut chart = chart_builder(root, s).build_cartesian_2d(x0..x1, y0..y1)?;
        let target = match f.runs[0].ids.as_ref().and_then(|ids| ids.first()) {
            Some(id) => format!("{} (series {id}, the first)", f.view.target),
            None => f.view.target.clone(),
        };
        axes!(
            chart,
            s,
            "time step (row of the series, from 0)",
            &target,
            &|v: &f64| format!("{}", v.round() as i64),
            &error_label,
            10
        );
        let c = colour(0);
        draw_bands(&mut chart, s, c, &series.bands)?;
        let ForecastSeries {
            truth,
            model,
            snaive,
            ets,
            ..
        } = series;
        chart
            .draw_series(LineSeries::new(truth.clone(), s.line(BLACK, 1.8)))?
            .label("truth")
            .legend(mark!(s, BLACK, false));
        reference_line(&mut chart, s, snaive, 4.0, "seasonal-naive forecast")?;
        ets_line(&mut chart, s, ets, "AutoETS forecast")?;
        chart
            .draw_series(LineSeries::new(model.clone(), s.line(c, 2.0)))?
            .label(format!(
                "LSTM, H = {}: one-step forecast, mean of {} seed{}",
                f.units,
                f.runs.len(),
                if f.runs.len() == 1 { "" } else { "s" }
            ))
            .legend(mark!(s, c, false, false));
        chart.draw_series(model.iter().map(|&p| Circle::new(p, s.px(2.5), s.fill(c))))?;
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// AutoETS's forecasts or errors as a dashed line in its own colour, where the runs recorded
/// them (none: nothing drawn).
pub(super) fn ets_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    s: &Style,
    pts: Vec<(f64, f64)>,
    label: &str,
) -> Drawn<DB> {
    if pts.is_empty() {
        return Ok(());
    }
    let e = colour(1);
    chart
        .draw_series(DashedLineSeries::new(
            pts,
            s.px(6.0),
            s.px(4.0),
            s.line(e, 1.5),
        ))?
        .label(label.to_string())
        .legend(mark!(s, e, true));
    Ok(())
}

/// What the forecast figure draws, one step ahead over the test stretch: the truth, the
/// LSTM's mean forecast, the baselines' forecasts and the shaded intervals.
struct ForecastSeries {
    truth: Vec<(f64, f64)>,
    model: Vec<(f64, f64)>,
    snaive: Vec<(f64, f64)>,
    /// AutoETS, where the runs recorded it (older test_predictions.csv have no column).
    ets: Vec<(f64, f64)>,
    /// The intervals, widest first, as (level, lower and upper bounds per row).
    bands: Vec<(f64, Vec<Band>)>,
}

impl ForecastSeries {
    /// The series of `f`'s one-step-ahead rows, each at the time step it forecasts; of a
    /// panel, its first series'.
    fn of(f: &TestFigure) -> ForecastSeries {
        let first = &f.runs[0];
        let at = first.at.as_deref().unwrap_or(&[]);
        let ids = first.ids.as_deref();
        let first_series = |i: usize| ids.is_none_or(|ids| ids[i] == ids[0]);
        // One step ahead: the target at origin + 1.
        let rows: Vec<usize> = (0..at.len())
            .filter(|&i| at[i].1 == 1 && first_series(i))
            .collect();
        let t = |i: usize| (at[i].0 + 1) as f64;
        let truth: Vec<(f64, f64)> = rows.iter().map(|&i| (t(i), first.truth[i])).collect();
        let model: Vec<(f64, f64)> = rows.iter().map(|&i| (t(i), f.mean_prediction(i))).collect();
        let snaive: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|&i| Some((t(i), first.snaive.as_ref()?[i])))
            .collect();
        // AutoETS, where the runs recorded it (older test_predictions.csv have no column).
        let ets: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|&i| Some((t(i), first.ets.as_ref()?[i])))
            .collect();
        // The intervals, widest first, as (level, lower and upper bounds per row).
        let mut levels: Vec<f64> = first.bounds.iter().map(|b| b.level).collect();
        levels.sort_by(|a, b| b.total_cmp(a));
        let bands: Vec<(f64, Vec<Band>)> = levels
            .iter()
            .map(|&level| {
                let band = rows
                    .iter()
                    .map(|&i| {
                        let (lo, hi) = f.mean_bounds(level, i);
                        (t(i), lo, hi)
                    })
                    .collect();
                (level, band)
            })
            .collect();
        ForecastSeries {
            truth,
            model,
            snaive,
            ets,
            bands,
        }
    }

    /// The value axis over every series and band, 8 % of the span below and 12 % above.
    fn y_range(&self) -> (f64, f64) {
        let ys = self
            .truth
            .iter()
            .chain(&self.model)
            .chain(&self.snaive)
            .chain(&self.ets)
            .map(|p| p.1)
            .chain(
                self.bands
                    .iter()
                    .flat_map(|(_, b)| b.iter().flat_map(|p| [p.1, p.2])),
            );
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let span = (hi - lo).max(1e-9);
        (lo - 0.08 * span, hi + 0.12 * span)
    }
}

/// The shaded prediction intervals in `c`, widest first, each with its legend entry.
fn draw_bands<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    s: &Style,
    c: RGBColor,
    bands: &[(f64, Vec<Band>)],
) -> Drawn<DB> {
    for (k, (level, band)) in bands.iter().enumerate() {
        // Lighter for the wider level, so that the narrower shows through.
        let shade = c.mix(0.12 + 0.12 * k as f64).filled();
        let outline: Vec<(f64, f64)> = band
            .iter()
            .map(|p| (p.0, p.1))
            .chain(band.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        let (w, h) = (s.px(14.0), s.px(5.0));
        chart
            .draw_series(std::iter::once(Polygon::new(outline, shade)))?
            .label(format!("LSTM {level} % prediction interval (mean bounds)"))
            .legend(move |(x, y)| Rectangle::new([(x, y - h), (x + 2 * w, y + h)], shade));
    }
    Ok(())
}

/// Regression: predictions against the truth, with the diagonal of a perfect model.
pub(super) struct PredictedVsTruth<'a>(pub(super) &'a TestFigure<'a>);

impl Figure for PredictedVsTruth<'_> {
    fn name(&self) -> &'static str {
        "predicted_vs_truth"
    }
    fn size(&self) -> (u32, u32) {
        (560, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let f = self.0;
        let first = &f.runs[0];
        let pts: Vec<(f64, f64)> = (0..first.truth.len())
            .map(|i| (first.truth[i], f.mean_prediction(i)))
            .collect();
        let (lo, hi) = pts
            .iter()
            .flat_map(|p| [p.0, p.1])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let span = (hi - lo).max(1e-9);
        let (a0, a1) = (lo - 0.06 * span, hi + 0.06 * span);
        let mut chart = chart_builder(root, s).build_cartesian_2d(a0..a1, a0..a1)?;
        axes!(
            chart,
            s,
            &format!("true {}", f.view.target),
            &format!(
                "predicted (H = {}, mean of {} seeds)",
                f.units,
                f.runs.len()
            ),
            &error_label,
            &error_label,
            8
        );
        chart
            .draw_series(DashedLineSeries::new(
                vec![(a0, a0), (a1, a1)],
                s.px(6.0),
                s.px(4.0),
                s.line(GREY, 1.4),
            ))?
            .label("a perfect model")
            .legend(mark!(s, GREY, true));
        let c = colour(0);
        chart
            .draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, s.px(3.5), s.line(c, 1.2))),
            )?
            .label("test series")
            .legend(move |(x, y)| Circle::new((x + s.px(14.0), y), s.px(3.5), s.line(c, 1.2)));
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        let _ = GRID;
        Ok(())
    }
}
