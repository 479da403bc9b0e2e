//! Training seconds per epoch against num_units (`cost_vs_units`).
use super::*;

/// Training seconds per epoch against num_units, with a guide line proportional to H².
pub struct CostVsUnits<'a>(pub &'a Data<'a>);

impl Figure for CostVsUnits<'_> {
    fn name(&self) -> &'static str {
        "cost_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        let lows = d.rows.iter().map(|r| {
            (r.seconds_per_epoch.mean - r.seconds_per_epoch.std).max(r.seconds_per_epoch.mean / 2.0)
        });
        let highs = d
            .rows
            .iter()
            .map(|r| r.seconds_per_epoch.mean + r.seconds_per_epoch.std);
        let lo = lows.fold(f64::INFINITY, f64::min).max(1e-6);
        let hi = highs.fold(0f64, f64::max).max(lo * 2.0);
        let (y0, y1) = (lo / 1.6, hi * 1.6);
        let yticks = log_ticks(y0, y1, 4);
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(d.widths()),
            (y0..y1).log_scale().with_key_points(yticks),
        )?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "training time per epoch (s, log scale)",
            &units_label,
            &|v: &f64| short_number(*v)
        );
        if let Some(top) = d.rows.iter().max_by_key(|r| r.num_units) {
            draw_guide(&mut chart, s, top, (x0, x1), (y0, y1))?;
        }
        for v in 0..d.variants.len() {
            draw_variant(&mut chart, s, d, v, y0)?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// The guide: c·H² through the widest measured point (`top`), drawn where it is on the chart.
fn draw_guide<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    top: &Row,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let h = top.num_units as f64;
    let c = top.seconds_per_epoch.mean / (h * h);
    let from = (y0 / c).sqrt().max(x0);
    let n = 50;
    let pts: Vec<(f64, f64)> = (0..=n)
        .map(|i| {
            let x = from * (x1 / from).powf(i as f64 / n as f64);
            (x, c * x * x)
        })
        .filter(|p| p.1 <= y1)
        .collect();
    let label = format!("∝ H² (through H = {})", top.num_units);
    reference_line(chart, s, pts, 5.0, label)
}

/// Variant `v`'s measured seconds per epoch: a line with its legend entry, error bars (cut at
/// the axis' foot `y0`) and a dot at each width.
fn draw_variant<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    d: &Data,
    v: usize,
    y0: f64,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let line = d.line(v, |r| (r.num_units as f64, r.seconds_per_epoch.mean));
    let (rows, c, pts) = (&line.rows, line.colour, &line.pts);
    chart
        .draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?
        .label(format!(
            "{}measured on {}; {}",
            d.prefix(v),
            d.devices,
            d.spread()
        ))
        .legend(mark!(s, c, false, false));
    error_bars(
        chart,
        &rows
            .iter()
            .map(|r| {
                let (m, e) = (r.seconds_per_epoch.mean, r.seconds_per_epoch.std);
                (r.num_units as f64, (m - e).max(y0), m + e)
            })
            .collect::<Vec<_>>(),
        s.line(c, 1.4),
        s.px(5.0),
    )?;
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
    Ok(())
}
