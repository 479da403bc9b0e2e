//! Parameter count against num_units, both conventions' formulas (`params_vs_units`).
use super::*;

/// Parameter count against num_units: the exact formulas of both conventions, and the counts
/// of the trained models.
pub struct ParamsVsUnits<'a>(pub &'a Data<'a>);

impl Figure for ParamsVsUnits<'_> {
    fn name(&self) -> &'static str {
        "params_vs_units"
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        let d = self.0;
        let (x0, x1) = d.units_range();
        // The exact counts are polynomials in H (one per architecture of the sweep); drawn as
        // smooth curves over the axis.
        let archs = d.architectures();
        let (y0, y1) = counts_range(&archs, (x0, x1));
        let mut chart = chart_builder(root, s).build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(d.widths()),
            (y0..y1).log_scale().with_key_points(ticks_125(y0, y1)),
        )?;
        axes!(
            chart,
            s,
            &d.units_axis(),
            "trainable parameters (log scale)",
            &units_label,
            &|v: &f64| short_count(*v)
        );
        draw_formulas(&mut chart, s, d, &archs, (x0, x1))?;
        let mut counted: Vec<(f64, f64)> = d
            .rows
            .iter()
            .map(|r| (r.num_units as f64, r.params as f64))
            .collect();
        counted.dedup();
        chart
            .draw_series(
                counted
                    .iter()
                    .map(|&p| Circle::new(p, s.px(5.5), s.line(BLACK, 1.6))),
            )?
            .label(format!("counted in the trained models (I = {})", d.input))
            .legend(move |(x, y)| Circle::new((x + s.px(14.0), y), s.px(5.5), s.line(BLACK, 1.6)));
        // The two conventions differ by a bias vector per layer and direction: invisible on a
        // log axis, so said in words.
        chart.plotting_area().draw(
            &(EmptyElement::at((x1, y0))
                + Text::new(
                    keras_note(d, &archs),
                    (-s.px(10.0), -s.px(10.0)),
                    s.note().pos(Pos::new(HPos::Right, VPos::Bottom)),
                )),
        )?;
        for &(h, p) in &counted {
            chart.plotting_area().draw(
                &(EmptyElement::at((h, p))
                    + Text::new(
                        short_count(p),
                        (s.px(9.0), s.px(4.0)),
                        s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                    )),
            )?;
        }
        legend!(chart, s, SeriesLabelPosition::UpperLeft);
        Ok(())
    }
}

/// The log axis of counts: from the smallest Keras count at `x0` to the largest PyTorch count
/// at `x1`, a factor 1.4 wider on each side.
fn counts_range(archs: &[Arch], (x0, x1): (f64, f64)) -> (f64, f64) {
    let count = |a: &Arch, keras: bool, h: f64| real_count(a, keras, h);
    let y0 = archs
        .iter()
        .map(|a| count(a, true, x0))
        .fold(f64::INFINITY, f64::min)
        / 1.4;
    let y1 = archs
        .iter()
        .map(|a| count(a, false, x1))
        .fold(0.0, f64::max)
        * 1.4;
    (y0, y1)
}

/// `f` at 61 widths evenly spaced on the log axis from `x0` to `x1`.
fn smooth_curve(f: &dyn Fn(f64) -> f64, (x0, x1): (f64, f64)) -> Vec<(f64, f64)> {
    let n = 60;
    (0..=n)
        .map(|k| {
            let h = x0 * (x1 / x0).powf(k as f64 / n as f64);
            (h, f(h))
        })
        .collect()
}

/// The formula curves with their legend entries: both conventions for one architecture, the
/// PyTorch count of each for several.
fn draw_formulas<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    d: &Data,
    archs: &[Arch],
    xs: (f64, f64),
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let count = |a: &Arch, keras: bool, h: f64| real_count(a, keras, h);
    let curve = |f: &dyn Fn(f64) -> f64| smooth_curve(f, xs);
    let input = "I";
    if let [a] = archs[..] {
        // One architecture: both conventions.
        let biases = a.cell.keras_biases();
        let (ct, ck) = (colour(0), colour(1));
        chart
            .draw_series(LineSeries::new(
                curve(&|h| count(&a, false, h)),
                s.line(ct, 2.0),
            ))?
            .label(format!(
                "PyTorch / tch (2 biases): {}",
                formula(&a, false, input, Some(d.classes))
            ))
            .legend(mark!(s, ct, false));
        chart
            .draw_series(DashedLineSeries::new(
                curve(&|h| count(&a, true, h)),
                s.px(7.0),
                s.px(5.0),
                s.line(ck, 2.0),
            ))?
            .label(format!(
                "Keras ({biases} bias{}): {}",
                if biases == 1 { "" } else { "es" },
                formula(&a, true, input, Some(d.classes))
            ))
            .legend(mark!(s, ck, true));
    } else {
        // Several: the PyTorch count of each; the Keras difference in words below.
        for (i, a) in archs.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(
                    curve(&|h| count(a, false, h)),
                    s.line(c, 2.0),
                ))?
                .label(format!(
                    "{}: {}",
                    a.describe(),
                    formula(a, false, input, Some(d.classes))
                ))
                .legend(mark!(s, c, false));
        }
    }
    Ok(())
}

/// How Keras' count differs from PyTorch's, in words: at the widest H for one architecture,
/// in general for several.
fn keras_note(d: &Data, archs: &[Arch]) -> String {
    let h = d.rows.iter().map(|r| r.num_units).max().unwrap_or(128);
    match archs[..] {
        [a] => {
            let a = a.with_hidden(h);
            let (torch, keras) = (param_count(&a), keras_param_count(&a));
            if torch == keras {
                format!(
                    "Keras = PyTorch (two biases in both): {} at H = {h}",
                    thousands(torch)
                )
            } else {
                format!(
                    "Keras = PyTorch − {}: {} vs {} at H = {h}",
                    formula_difference(&a),
                    thousands(keras),
                    thousands(torch)
                )
            }
        }
        _ => "Keras: one bias vector fewer per layer and direction for LSTM and RNN, \
              the same count for GRU"
            .to_string(),
    }
}

/// `param_count` (or `keras_param_count`) at a real H, for the smooth curves.
fn real_count(a: &Arch, keras: bool, h: f64) -> f64 {
    let (g, d) = (a.cell.gates() as f64, a.directions() as f64);
    let b = if keras { a.cell.keras_biases() } else { 2 } as f64;
    let mut total = 0.0;
    for l in 0..a.layers {
        let inputs = if l == 0 { a.input as f64 } else { d * h };
        total += d * (g * h * (inputs + h) + b * g * h);
    }
    total + d * a.classes as f64 * h + a.classes as f64
}

/// `4H`, `2×4H`, ...: PyTorch's extra bias vectors over Keras', per layer and direction.
fn formula_difference(a: &Arch) -> String {
    let per = a.cell.gates() * (2 - a.cell.keras_biases());
    let n = a.layers * a.directions();
    let h = if per == 1 {
        "H".to_string()
    } else {
        format!("{per}H")
    };
    if n == 1 {
        h
    } else {
        format!("{n}×{h}")
    }
}
