//! Test and validation accuracy against num_units (`accuracy_vs_units`).
use super::*;

/// Test and validation accuracy against num_units, parameter counts written under the points.
pub struct AccuracyVsUnits<'a>(pub &'a Data<'a>);

impl Figure for AccuracyVsUnits<'_> {
    fn name(&self) -> &'static str {
        "accuracy_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        let (y0, y1) = padded(
            d.rows.iter().flat_map(|r| {
                [
                    pct(r.test_acc.mean - r.test_acc.std),
                    pct(r.test_acc.mean + r.test_acc.std),
                    pct(r.val_acc.mean - r.val_acc.std),
                    pct(r.val_acc.mean + r.val_acc.std),
                ]
            }),
            0.08,
        );
        let mut chart = chart_builder_with(root, s, 20.0)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(d.widths()), y0..y1)?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "accuracy (%)",
            &units_label,
            &percent_label(y1 - y0)
        );
        for v in 0..d.variants.len() {
            draw_variant(&mut chart, s, d, v)?;
        }
        // Parameter counts in grey under the width's tick label, once per width (their range
        // when the rows of a width differ in cell or stack).
        let mut seen = Vec::new();
        for r in &d.rows {
            if seen.contains(&r.num_units) {
                continue;
            }
            seen.push(r.num_units);
            let (x, y) = chart.backend_coord(&(r.num_units as f64, y0));
            root.draw(&Text::new(
                format!("{} params", params_of_width(d, r.num_units)),
                (x, y + s.px(31.0)),
                s.note().pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        if !d.missing_units.is_empty() {
            let list: Vec<String> = d.missing_units.iter().map(i64::to_string).collect();
            chart.plotting_area().draw(
                &(EmptyElement::at((x0, y1))
                    + Text::new(
                        format!("no result yet for H = {}", list.join(", ")),
                        (s.px(10.0), s.px(10.0)),
                        s.note(),
                    )),
            )?;
        }
        legend!(chart, s, SeriesLabelPosition::LowerRight);
        Ok(())
    }
}

/// One variant's validation line (with its error bars) and test line.
fn draw_variant<'a, DB, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    s: &Style,
    d: &Data,
    v: usize,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let rows = d.of(v);
    let (ct, cv) = (colour(2 * v), colour(2 * v + 1));
    let test: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.num_units as f64, pct(r.test_acc.mean)))
        .collect();
    let val: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.num_units as f64, pct(r.val_acc.mean)))
        .collect();
    let prefix = d.prefix(v);
    validation_line(chart, s, cv, format!("{prefix}validation accuracy"), &val)?;
    error_bars(
        chart,
        &pct_bars(&rows, |r| r.num_units as f64, |r| &r.val_acc),
        s.line(cv, 1.2),
        s.px(4.0),
    )?;
    test_line(
        chart,
        s,
        ct,
        format!("{prefix}test accuracy ({})", d.spread()),
        &test,
        &pct_bars(&rows, |r| r.num_units as f64, |r| &r.test_acc),
    )
}

/// The parameter count of width `units`' rows, short ("82k"), or their range ("82k–164k") when
/// they differ.
fn params_of_width(d: &Data, units: i64) -> String {
    let same: Vec<i64> = d
        .rows
        .iter()
        .filter(|o| o.num_units == units)
        .map(|o| o.params)
        .collect();
    let (lo, hi) = (same.iter().min().unwrap(), same.iter().max().unwrap());
    if lo == hi {
        short_count(*lo as f64)
    } else {
        format!("{}–{}", short_count(*lo as f64), short_count(*hi as f64))
    }
}
