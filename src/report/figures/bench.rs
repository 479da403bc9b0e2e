/*!
The two figures of a bench JSON (`rowseq bench`): time per training batch against num_units for
rowseq and PyTorch, with their ratio beside it; and the GFLOP/s both achieve against the sgemm
peak measured on the same machine. Widths on a log2 axis, times and GFLOP/s on log10 axes.
A child of `figures`, so it draws with the same axes, legends and marks.
*/
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{chart_builder, units_label};
use crate::records::bench::{BenchRecord, Measured, OWN_COLS, OWN_INNER, OWN_ROWS};
use crate::style::{colour, reference_line, short_number, ticks_125, Drawn, Figure, Style, GRID};

/// Log ticks at 1-2-5, or at finer steps when the range is too narrow for three of those.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let t = ticks_125(lo, hi);
    if t.len() >= 3 {
        return t;
    }
    let mut t: Vec<f64> = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]
        .iter()
        .flat_map(|m| (-4..=6).map(move |e| m * 10f64.powi(e)))
        .filter(|v| *v >= lo && *v <= hi)
        .collect();
    t.sort_by(f64::total_cmp);
    t
}

/// The log axis over a set of positive values, padded by `pad` on both sides.
fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.1, 10.0);
    }
    let hi = hi.max(lo * 2.0);
    (lo / pad, hi * pad)
}

fn widths(r: &BenchRecord) -> (Vec<f64>, (f64, f64)) {
    let w: Vec<f64> = r.widths.iter().map(|w| w.num_units as f64).collect();
    let (lo, hi) = (w[0].min(w[w.len() - 1]), w[0].max(w[w.len() - 1]));
    let range = if lo == hi {
        (lo / 2.0, hi * 2.0)
    } else {
        (lo / 1.35, hi * 1.35)
    };
    (w, range)
}

/// One implementation's points, (H, f(measurement)).
fn series(r: &BenchRecord, pytorch: bool, f: impl Fn(&Measured) -> f64) -> Vec<(f64, f64)> {
    r.widths
        .iter()
        .filter_map(|w| {
            let m = if pytorch {
                w.pytorch.as_ref()?
            } else {
                &w.rowseq
            };
            Some((w.num_units as f64, f(m)))
        })
        .collect()
}

/// What the run was: device, threads, batch.
fn setting(r: &BenchRecord) -> String {
    let t = r.env.run.threads;
    format!(
        "{}, {t} thread{}, batch {}",
        r.env.run.device,
        if t == 1 { "" } else { "s" },
        r.settings.batch_size
    )
}

/// ms per training batch against num_units (left), rowseq / PyTorch (right).
/// rowseq's points as a solid line with dots, PyTorch's (when measured) as a dashed line with
/// triangles, each with its legend entry; the two figures share it.
macro_rules! both_sides {
    ($chart:expr, $s:expr, $r:expr, $ours:expr, $theirs:expr, $torch:expr) => {
        let (cr, ct) = (colour(0), colour(1));
        $chart
            .draw_series(LineSeries::new($ours.clone(), $s.line(cr, 2.0)))?
            .label(format!("rowseq ({})", setting($r)))
            .legend(mark!($s, cr, false, false));
        $chart.draw_series(
            $ours
                .iter()
                .map(|&p| Circle::new(p, $s.px(4.5), $s.fill(cr))),
        )?;
        if !$theirs.is_empty() {
            $chart
                .draw_series(DashedLineSeries::new(
                    $theirs.clone(),
                    $s.px(6.0),
                    $s.px(4.0),
                    $s.line(ct, 2.0),
                ))?
                .label($torch)
                .legend(mark!($s, ct, true, true));
            $chart.draw_series(
                $theirs
                    .iter()
                    .map(|&p| TriangleMarker::new(p, $s.px(5.5), $s.fill(ct))),
            )?;
        }
    };
}

pub struct TimeVsUnits<'a>(pub &'a BenchRecord);

impl Figure for TimeVsUnits<'_> {
    fn name(&self) -> &'static str {
        "bench_time_vs_units"
    }
    fn size(&self) -> (u32, u32) {
        (1200, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let r = self.0;
        let (w, _) = root.dim_in_pixel();
        let (left, right) = root.split_horizontally(w / 2);
        let (keys, range) = widths(r);
        draw_times(&left, s, r, keys.clone(), range)?;
        draw_ratios(&right, s, r, keys, range)
    }
}

/// The left panel: ms per training batch against num_units, rowseq and PyTorch, on log axes
/// with ticks at `keys` over `(x0, x1)`.
fn draw_times<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    r: &BenchRecord,
    keys: Vec<f64>,
    (x0, x1): (f64, f64),
) -> Drawn<DB> {
    let ours = series(r, false, |m| m.ms_per_batch);
    let theirs = series(r, true, |m| m.ms_per_batch);
    let (y0, y1) = log_range(ours.iter().chain(&theirs).map(|p| p.1), 1.5);
    let mut chart = chart_builder(area, s).build_cartesian_2d(
        (x0..x1).log_scale().with_key_points(keys),
        (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
    )?;
    axes!(
        chart,
        s,
        "LSTM units H (num_units, log₂ scale)",
        "ms per training batch (log scale)",
        &units_label,
        &|v: &f64| short_number(*v)
    );
    both_sides!(
        chart,
        s,
        r,
        ours,
        theirs,
        "PyTorch, same model, batches and step"
    );
    legend!(chart, s, SeriesLabelPosition::UpperLeft);
    Ok(())
}

/// The right panel: rowseq's time over PyTorch's against num_units, each ratio written above
/// its point; a note instead when the bench has no PyTorch reference.
fn draw_ratios<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    r: &BenchRecord,
    keys: Vec<f64>,
    (x0, x1): (f64, f64),
) -> Drawn<DB> {
    let ratios: Vec<(f64, f64)> = r
        .widths
        .iter()
        .filter_map(|w| Some((w.num_units as f64, w.ratio?)))
        .collect();
    if ratios.is_empty() {
        area.draw(&Text::new(
            "no PyTorch reference in this bench (--no-reference)",
            (s.px(60.0), s.px(200.0)),
            s.note(),
        ))?;
        return Ok(());
    }
    let (r0, r1) = ratio_range(&ratios);
    let mut chart = chart_builder(area, s)
        .build_cartesian_2d((x0..x1).log_scale().with_key_points(keys), r0..r1)?;
    axes!(
        chart,
        s,
        "LSTM units H (num_units, log₂ scale)",
        "rowseq time / PyTorch time",
        &units_label,
        &|v: &f64| format!("{v:.2}")
    );
    reference_line(
        &mut chart,
        s,
        vec![(x0, 1.0), (x1, 1.0)],
        5.0,
        "equal time (below: rowseq faster)",
    )?;
    let c = colour(2);
    chart
        .draw_series(LineSeries::new(ratios.clone(), s.line(c, 2.0)))?
        .label("ratio of ms per batch")
        .legend(mark!(s, c, false, false));
    chart.draw_series(ratios.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
    for &(h, v) in &ratios {
        chart.plotting_area().draw(
            &(EmptyElement::at((h, v))
                + Text::new(
                    format!("{v:.2}"),
                    (0, -s.px(9.0)),
                    s.note().pos(Pos::new(HPos::Center, VPos::Bottom)),
                )),
        )?;
    }
    legend!(chart, s, SeriesLabelPosition::UpperRight);
    Ok(())
}

/// The ratio axis: over the ratios and 1, with room above the highest point for the legend.
fn ratio_range(ratios: &[(f64, f64)]) -> (f64, f64) {
    let (lo, hi) = ratios
        .iter()
        .fold((1f64, 1f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
    // Room above the highest point for the legend.
    let span = (hi - lo).max(0.2);
    ((lo - 0.15 * span).clamp(0.0, 0.8), hi + 0.5 * span)
}

/// GFLOP/s of training (3 x 2·B·T·4H(I+H) per step) against num_units, with the sgemm peak.
pub struct GflopsVsUnits<'a>(pub &'a BenchRecord);

impl Figure for GflopsVsUnits<'_> {
    fn name(&self) -> &'static str {
        "bench_gflops_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let r = self.0;
        let (keys, (x0, x1)) = widths(r);
        let ours = series(r, false, |m| m.gflops);
        let theirs = series(r, true, |m| m.gflops);
        let peak = r.sgemm.peak();
        let (y0, y1) = log_range(
            ours.iter()
                .chain(&theirs)
                .map(|p| p.1)
                .chain(std::iter::once(peak)),
            1.6,
        );
        // Room above the peak line for the legend.
        let y1 = y1 * 2.5;
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(keys),
            (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
        )?;
        axes!(
            chart,
            s,
            "LSTM units H (num_units, log₂ scale)",
            "training GFLOP/s (log scale)",
            &units_label,
            &|v: &f64| short_number(*v)
        );
        let label = match r.sgemm.own_kernel_peak() {
            Some(_) => format!(
                "peak, rowseq's matmul kernel {OWN_ROWS}×{OWN_INNER}×{OWN_COLS}: {} GFLOP/s",
                short_number(peak)
            ),
            None => format!(
                "sgemm peak, {n}×{n} matmul: {} GFLOP/s",
                short_number(peak),
                n = r.sgemm.n
            ),
        };
        reference_line(&mut chart, s, vec![(x0, peak), (x1, peak)], 5.0, label)?;
        both_sides!(chart, s, r, ours, theirs, "PyTorch");
        for w in &r.widths {
            chart.plotting_area().draw(
                &(EmptyElement::at((w.num_units as f64, w.rowseq.gflops))
                    + Text::new(
                        format!("{:.0}%", w.rowseq.percent_of_peak),
                        (s.px(7.0), s.px(4.0)),
                        s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                    )),
            )?;
        }
        chart.plotting_area().draw(
            &(EmptyElement::at((x1, y0))
                + Text::new(
                    "FLOPs per step: 3 × 2·B·T·4H(I+H); % of peak under rowseq's points",
                    (-s.px(10.0), -s.px(10.0)),
                    s.note().pos(Pos::new(HPos::Right, VPos::Bottom)),
                )),
        )?;
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}
