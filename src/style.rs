/*!
The look shared by every figure, and the machinery that renders one drawing to both SVG and PNG.

A figure is drawn by one generic function per kind, once on an SVG backend at scale 1 and once on
an RGB bitmap at scale 2 (so the PNG is crisp on a high-density screen and in print). Text is
laid out with DejaVu Sans, bundled in the binary and registered with plotters' `ab_glyph` font
backend, so rendering needs no system fonts and no fontconfig, and gives the same bytes on any
machine. The SVG names the font as a CSS stack (`DejaVu Sans, Helvetica, Arial, sans-serif`), so
a viewer without DejaVu still shows readable text.

Colours are the Okabe–Ito palette (Okabe & Ito 2008), safe for the common colour-vision
deficiencies; series also differ in marker shape or dash, so figures survive greyscale printing.
*/
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};

use crate::store::write_atomic;

/// The CSS font stack written into SVGs; also the name the bundled font is registered under.
pub const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the bundled DejaVu Sans font does not parse");
        }
    });
}

/// Okabe–Ito colours, in the order series use them (yellow last: faint on white).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

/// For curves ordered by width: light-to-dark is not colour-blind safe, so the same palette,
/// in an order that keeps neighbouring widths far apart in hue.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub const GREY: RGBColor = RGBColor(0x59, 0x59, 0x59);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);

/// Sizes scaled for one backend: 1 for SVG, 2 for PNG.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub scale: f64,
}

impl Style {
    /// A length in backend pixels.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }
    pub fn upx(&self, v: f64) -> u32 {
        self.px(v).max(0) as u32
    }
    /// Text of the given size (in SVG pixels) and colour.
    pub fn text(&self, size: f64, colour: RGBColor) -> TextStyle<'static> {
        (FONT, size * self.scale).into_font().color(&colour)
    }
    /// Tick labels.
    pub fn tick(&self) -> TextStyle<'static> {
        self.text(15.0, BLACK)
    }
    /// Axis titles.
    pub fn axis(&self) -> TextStyle<'static> {
        self.text(17.0, BLACK)
    }
    /// Legend entries.
    pub fn legend(&self) -> TextStyle<'static> {
        self.text(14.5, BLACK)
    }
    /// Small annotations on the plot.
    pub fn note(&self) -> TextStyle<'static> {
        self.text(13.0, GREY)
    }
    pub fn line(&self, colour: RGBColor, width: f64) -> ShapeStyle {
        colour.stroke_width(self.upx(width).max(1))
    }
    pub fn fill(&self, colour: RGBColor) -> ShapeStyle {
        colour.filled()
    }
}

/// The result of drawing on a backend.
pub type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// One kind of figure: a name (the file stem), a size in SVG pixels, and a drawing.
pub trait Figure {
    fn name(&self) -> &'static str;
    fn size(&self) -> (u32, u32) {
        (760, 480)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB>;
}

/// The scale of the PNG relative to the SVG.
pub const PNG_SCALE: u32 = 2;

/// Renders `figure` to `<dir>/<name>.svg` and `<dir>/<name>.png`; returns both paths.
pub fn render<F: Figure>(figure: &F, dir: &Path) -> Result<Vec<PathBuf>> {
    let name = figure.name();
    let paths = [
        dir.join(format!("{name}.svg")),
        dir.join(format!("{name}.png")),
    ];
    render_to(figure, &paths[0], &paths[1])?;
    Ok(paths.to_vec())
}

/// Renders `figure` to the SVG file `svg_path` and the PNG file `png_path`, each written
/// atomically.
pub fn render_to<F: Figure>(figure: &F, svg_path: &Path, png_path: &Path) -> Result<()> {
    register_font();
    let name = figure.name();
    let (w, h) = figure.size();

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|_| figure.draw(&root, &Style { scale: 1.0 }))
            .and_then(|_| root.present())
            .map_err(|e| anyhow!("could not draw {name}.svg: {e}"))?;
    }
    write_atomic(svg_path, svg.as_bytes())?;

    let (pw, ph) = (w * PNG_SCALE, h * PNG_SCALE);
    let mut rgb = vec![0u8; (pw * ph * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (pw, ph)).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|_| {
                figure.draw(
                    &root,
                    &Style {
                        scale: PNG_SCALE as f64,
                    },
                )
            })
            .and_then(|_| root.present())
            .map_err(|e| anyhow!("could not draw {name}.png: {e}"))?;
    }
    write_atomic(png_path, &encode_png(&rgb, pw, ph, PNG_SCALE)?)
        .with_context(|| format!("could not write '{}'", png_path.display()))?;
    Ok(())
}

/// Encodes 8-bit RGB pixels as PNG, with a physical size that makes the image 96 dpi per SVG
/// pixel (so it prints at the SVG's size). No time or text chunks: the bytes depend on the
/// pixels only.
fn encode_png(rgb: &[u8], w: u32, h: u32, scale: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        // 96 dpi x scale, in pixels per metre.
        let ppm = (96.0 * scale as f64 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Parameter counts as people say them: 1306 -> "1.3k", 82186 -> "82k", 1.2e6 -> "1.2M".
pub fn short_count(n: f64) -> String {
    let a = n.abs();
    if a < 1e3 {
        format!("{n:.0}")
    } else if a < 1e4 {
        trim(format!("{:.1}", n / 1e3)) + "k"
    } else if a < 1e6 {
        format!("{:.0}k", n / 1e3)
    } else {
        trim(format!("{:.1}", n / 1e6)) + "M"
    }
}

fn trim(s: String) -> String {
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Ticks at 1, 2 and 5 times powers of ten within [lo, hi], for log axes.
pub fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powi(lo.log10().floor() as i32 - 1);
    while decade <= hi * 10.0 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * decade;
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out
}

/// A number for a tick label on a log axis of seconds: 0.05, 0.5, 5, 50.
pub fn short_number(v: f64) -> String {
    if v >= 1e3 {
        short_count(v)
    } else if v >= 1.0 {
        trim(format!("{v:.1}"))
    } else {
        let digits = (-v.log10().floor()) as usize;
        format!("{v:.digits$}")
    }
}

/// Draws vertical error bars (a line with caps) for (x, low, high) triples.
pub fn error_bars<DB, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    bars: &[(X::ValueType, f64, f64)],
    style: ShapeStyle,
    cap: i32,
) -> Drawn<DB>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    X::ValueType: Clone,
{
    for (x, lo, hi) in bars {
        if hi <= lo {
            continue;
        }
        let (x, lo, hi) = (x.clone(), *lo, *hi);
        chart.plotting_area().draw(&PathElement::new(
            vec![(x.clone(), lo), (x.clone(), hi)],
            style,
        ))?;
        for y in [lo, hi] {
            chart.plotting_area().draw(
                &(EmptyElement::at((x.clone(), y))
                    + PathElement::new(vec![(-cap, 0), (cap, 0)], style)),
            )?;
        }
    }
    Ok(())
}

/// Draws axes, ticks and a light horizontal grid.
macro_rules! axes {
    ($chart:expr, $s:expr, $x:expr, $y:expr, $xfmt:expr, $yfmt:expr) => {
        axes!($chart, $s, $x, $y, $xfmt, $yfmt, 12)
    };
    ($chart:expr, $s:expr, $x:expr, $y:expr, $xfmt:expr, $yfmt:expr, $xn:expr) => {
        $chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style($s.line(GRID, 1.0))
            .light_line_style(TRANSPARENT)
            .axis_style($s.line(BLACK, 1.2))
            .set_all_tick_mark_size($s.px(5.0))
            .label_style($s.tick())
            .axis_desc_style($s.axis())
            .x_desc($x)
            .y_desc($y)
            .x_label_formatter($xfmt)
            .y_label_formatter($yfmt)
            .x_labels($xn)
            .y_labels(8)
            .draw()?
    };
}

/// A legend box in a corner.
macro_rules! legend {
    ($chart:expr, $s:expr, $pos:expr) => {
        $chart
            .configure_series_labels()
            .position($pos)
            .margin($s.px(10.0))
            .legend_area_size($s.px(38.0))
            .border_style($s.line(GRID, 1.0))
            .background_style(WHITE.mix(0.9))
            .label_font($s.legend())
            .draw()?
    };
}

/// A legend mark: a short line (dashed or not), optionally through a marker (`Circle` or
/// `TriangleMarker`). Plotters anchors marks at their left end.
macro_rules! mark {
    ($s:expr, $c:expr, $dashed:expr) => {{
        let (s, c, dashed): (Style, RGBColor, bool) = (*$s, $c, $dashed);
        move |(x, y): (i32, i32)| {
            let (l, g) = (s.px(14.0), if dashed { s.px(4.0) } else { 0 });
            let line = s.line(c, 2.0);
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (l - g, 0)], line)
                + PathElement::new(vec![(l + g, 0), (2 * l, 0)], line)
        }
    }};
    ($s:expr, $c:expr, $dashed:expr, $marker:ident, $size:expr) => {{
        let (s, c, dashed): (Style, RGBColor, bool) = (*$s, $c, $dashed);
        move |(x, y): (i32, i32)| {
            let (l, g) = (s.px(14.0), if dashed { s.px(6.0) } else { 0 });
            let line = s.line(c, 2.0);
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (l - g, 0)], line)
                + PathElement::new(vec![(l + g, 0), (2 * l, 0)], line)
                + $marker::new((l, 0), s.px($size), s.fill(c))
        }
    }};
    ($s:expr, $c:expr, $dashed:expr, true) => {
        mark!($s, $c, $dashed, TriangleMarker, 5.5)
    };
    ($s:expr, $c:expr, $dashed:expr, false) => {
        mark!($s, $c, $dashed, Circle, 4.5)
    };
}

/// A test score's line as the accuracy and error figures draw each variant's: the line (with
/// its legend entry), the error bars of `bars` (x, low, high), and a dot at each point.
pub fn test_line<'a, DB, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    s: &Style,
    c: RGBColor,
    label: String,
    pts: &[(f64, f64)],
    bars: &[(f64, f64, f64)],
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(pts.to_vec(), s.line(c, 2.0)))?
        .label(label)
        .legend(mark!(s, c, false, false));
    error_bars(chart, bars, s.line(c, 1.4), s.px(5.0))?;
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, s.px(4.5), s.fill(c))))?;
    Ok(())
}

/// A validation score's line beside `test_line`'s: dashed (with its legend entry), a triangle
/// at each point.
pub fn validation_line<'a, DB, X>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    s: &Style,
    c: RGBColor,
    label: String,
    pts: &[(f64, f64)],
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    chart
        .draw_series(DashedLineSeries::new(
            pts.to_vec(),
            s.px(6.0),
            s.px(4.0),
            s.line(c, 1.6),
        ))?
        .label(label)
        .legend(mark!(s, c, true, true));
    chart.draw_series(
        pts.iter()
            .map(|&p| TriangleMarker::new(p, s.px(5.5), s.fill(c))),
    )?;
    Ok(())
}

/// A grey dashed reference line (a guide or a baseline's forecast) with its legend entry;
/// `gap` is the dashes' gap in SVG pixels.
pub fn reference_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    pts: Vec<(f64, f64)>,
    gap: f64,
    label: impl Into<String>,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    chart
        .draw_series(DashedLineSeries::new(
            pts,
            s.px(6.0),
            s.px(gap),
            s.line(GREY, 1.5),
        ))?
        .label(label)
        .legend(mark!(s, GREY, true));
    Ok(())
}

/// `H=<width>` beside each point, as the figures against parameter count name their points.
pub fn width_notes<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    points: &[(f64, f64)],
    widths: impl Iterator<Item = i64>,
) -> Drawn<DB>
where
    DB: DrawingBackend + 'a,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    for (&at, units) in points.iter().zip(widths) {
        chart.plotting_area().draw(
            &(EmptyElement::at(at)
                + Text::new(
                    format!("H={units}"),
                    (s.px(7.0), s.px(4.0)),
                    s.note().pos(Pos::new(HPos::Left, VPos::Top)),
                )),
        )?;
    }
    Ok(())
}

/// The chart area with room for tick labels and axis titles.
pub fn chart_builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    s: &Style,
) -> ChartBuilder<'a, 'b, DB> {
    chart_builder_with(area, s, 0.0)
}

/// `chart_builder` with `extra` SVG pixels below the tick labels.
pub fn chart_builder_with<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    s: &Style,
    extra: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(s.px(14.0))
        .margin_right(s.px(22.0))
        .margin_left(s.px(8.0))
        .margin_bottom(s.px(8.0))
        .x_label_area_size(s.px(52.0 + extra))
        .y_label_area_size(s.px(74.0));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_like_prose() {
        assert_eq!(short_count(1306.0), "1.3k");
        assert_eq!(short_count(4000.0), "4k");
        assert_eq!(short_count(82186.0), "82k");
        assert_eq!(short_count(295434.0), "295k");
        assert_eq!(short_count(1_200_000.0), "1.2M");
        assert_eq!(short_count(999.0), "999");
    }

    #[test]
    fn log_ticks_are_1_2_5() {
        assert_eq!(ticks_125(900.0, 30_000.0), vec![1e3, 2e3, 5e3, 1e4, 2e4]);
        assert_eq!(short_number(0.05), "0.05");
        assert_eq!(short_number(2.0), "2");
        assert_eq!(short_number(0.5), "0.5");
    }
}
