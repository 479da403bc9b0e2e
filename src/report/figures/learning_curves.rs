//! Validation accuracy and train loss per epoch, one line per width (`learning_curves`).
use super::*;

/// Validation accuracy and train loss per epoch, one line per width (mean over seeds).
pub struct LearningCurves<'a>(pub &'a Data<'a>);

impl Figure for LearningCurves<'_> {
    fn name(&self) -> &'static str {
        "learning_curves"
    }
    fn size(&self) -> (u32, u32) {
        (1200, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let rows: Vec<&Row> = d
            .rows
            .iter()
            .copied()
            .filter(|r| !r.curve.is_empty())
            .collect();
        let epochs = rows.iter().map(|r| r.curve.len()).max().unwrap_or(1).max(1) as f64;
        // Integer epochs only: plotters picks the ticks, the labels skip fractional ones.
        let axis = EpochAxis {
            range: (0.7, epochs + 0.3),
            ticks: (epochs as usize).min(12) + 1,
        };
        let (w, _) = root.dim_in_pixel();
        let (top, body) = root.split_vertically(s.px(36.0));
        let (left, right) = body.split_horizontally(w / 2);

        // One legend for both panels, in a row above them.
        let items: Vec<(String, RGBColor)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (row_label(d, r), colour(i)))
            .collect();
        draw_legend_row(&top, s, &items, w)?;
        draw_accuracy_panel(&left, s, &rows, &axis)?;
        draw_loss_panel(&right, s, &rows, &axis)
    }
}

/// The epoch axis both panels share: its range and how many ticks plotters may pick.
struct EpochAxis {
    range: (f64, f64),
    ticks: usize,
}

/// An epoch tick's label: whole epochs from 1, nothing at fractional ticks.
fn epoch_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 && *v >= 1.0 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// A row's legend label: its width, and its variant when there are several.
fn row_label(d: &Data, r: &Row) -> String {
    if d.variants.len() > 1 {
        format!("H = {} ({})", r.num_units, d.variants[r.variant])
    } else {
        format!("H = {}", r.num_units)
    }
}

/// The shared legend: one mark and label per row, centred in a row across `top` (`w` wide).
fn draw_legend_row<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    s: &Style,
    items: &[(String, RGBColor)],
    w: u32,
) -> Drawn<DB> {
    let font = s.legend();
    let mut text_w = Vec::new();
    for (t, _) in items {
        text_w.push(top.estimate_text_size(t, &font)?.0 as i32);
    }
    let (mark_w, gap, sep) = (s.px(28.0), s.px(7.0), s.px(26.0));
    let total: i32 = text_w.iter().map(|t| mark_w + gap + t).sum::<i32>()
        + sep * (items.len() as i32 - 1).max(0);
    let (mut x, y) = ((w as i32 - total) / 2, s.px(22.0));
    for ((t, c), tw) in items.iter().zip(&text_w) {
        top.draw(&PathElement::new(
            vec![(x, y), (x + mark_w, y)],
            s.line(*c, 2.0),
        ))?;
        top.draw(&Circle::new((x + mark_w / 2, y), s.px(3.5), s.fill(*c)))?;
        top.draw(&Text::new(
            t.clone(),
            (x + mark_w + gap, y),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += mark_w + gap + tw + sep;
    }
    Ok(())
}

/// The left panel: validation accuracy (%) per epoch, one line per row.
fn draw_accuracy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    rows: &[&Row],
    axis: &EpochAxis,
) -> Drawn<DB> {
    let (x0, x1) = axis.range;
    let (y0, y1) = padded(
        rows.iter()
            .flat_map(|r| r.curve.iter().map(|e| 100.0 * e.val_acc)),
        0.05,
    );
    let mut chart = chart_builder(area, s).build_cartesian_2d(x0..x1, y0..y1)?;
    axes!(
        chart,
        s,
        "epoch",
        "validation accuracy (%)",
        &epoch_label,
        &percent_label(y1 - y0),
        axis.ticks
    );
    for (i, r) in rows.iter().enumerate() {
        let pts: Vec<(f64, f64)> = r
            .curve
            .iter()
            .map(|e| (e.epoch as f64, 100.0 * e.val_acc))
            .collect();
        draw_curve(&mut chart, s, colour(i), pts)?;
    }
    Ok(())
}

/// The right panel: train loss per epoch on a log axis, one line per row.
fn draw_loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    rows: &[&Row],
    axis: &EpochAxis,
) -> Drawn<DB> {
    let (x0, x1) = axis.range;
    let (l0, l1) = loss_range(rows);
    let lticks = log_ticks(l0, l1, 1);
    let mut chart = chart_builder(area, s)
        .build_cartesian_2d(x0..x1, (l0..l1).log_scale().with_key_points(lticks))?;
    axes!(
        chart,
        s,
        "epoch",
        "train loss (cross-entropy, log scale)",
        &epoch_label,
        &|v: &f64| short_number(*v),
        axis.ticks
    );
    for (i, r) in rows.iter().enumerate() {
        let pts: Vec<(f64, f64)> = r
            .curve
            .iter()
            .filter(|e| e.train_loss > 0.0)
            .map(|e| (e.epoch as f64, e.train_loss))
            .collect();
        draw_curve(&mut chart, s, colour(i), pts)?;
    }
    Ok(())
}

/// The log axis of the positive train losses, a factor 1.3 wider on each side (0.01 to 10
/// when there is none).
fn loss_range(rows: &[&Row]) -> (f64, f64) {
    let (l0, l1) = rows
        .iter()
        .flat_map(|r| r.curve.iter().map(|e| e.train_loss))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    if l0.is_finite() {
        (l0 / 1.3, l1 * 1.3)
    } else {
        (0.01, 10.0)
    }
}

/// One row's curve: a line in `c` and a dot at each epoch.
fn draw_curve<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    s: &Style,
    c: RGBColor,
    pts: Vec<(f64, f64)>,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    chart.draw_series(LineSeries::new(pts.clone(), s.line(c, 2.0)))?;
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(3.0), s.fill(c))))?;
    Ok(())
}
