//! The figure of `explain --hidden`: one column per run, one block per test example, each block
//! the input (the image beside it for image data), h_t and c_t as units x timesteps heatmaps and
//! the prediction after each step, all on one time axis. Runs share the pixel sizes of a unit
//! and a step, so a wider hidden state is a taller heatmap. Drawn with the report's `Figure`
//! machinery (the same fonts, palette, SVG and PNG); the bytes depend on the values only.
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBColor;

use super::hidden_data::{Example, Grid, Panel};
use crate::model::SATURATED;
use crate::style::{Drawn, Figure, Style, GREY, PALETTE};

const MARGIN: f64 = 16.0;
const HEADER: f64 = 66.0;
const CAPTION: f64 = 36.0;
const GAP: f64 = 6.0;
const AXIS: f64 = 18.0;
const BLOCK_GAP: f64 = 18.0;
const LABELS: f64 = 72.0;
/// The height of a strip's name and note.
const LABEL: f64 = 30.0;
const COLUMN_GAP: f64 = 30.0;
const FOOTER: f64 = 50.0;
/// Pixels per image pixel, for the picture beside image inputs.
const IMAGE_SCALE: f64 = 3.0;

/// The pixel sizes every column shares.
struct Sizes {
    /// A timestep's width.
    step: f64,
    /// A unit's height (h and c), an input value's, a class's.
    unit: f64,
    input: f64,
    class: f64,
    /// Rows of the tallest h, input and outputs; steps of the longest sequence.
    units: usize,
    inputs: usize,
    classes: usize,
    steps: usize,
    /// The picture's width and height (0 without images).
    image: (f64, f64),
    cell_state: bool,
}

impl Sizes {
    fn of(panels: &[Panel]) -> Sizes {
        let examples = || panels.iter().flat_map(|p| &p.examples);
        let most = |f: fn(&Example) -> usize| examples().map(f).max().unwrap_or(1).max(1);
        let (units, inputs) = (most(|e| e.h.rows), most(|e| e.input.rows));
        let (classes, steps) = (most(|e| e.outputs.rows), most(|e| e.h.cols));
        let fit = |span: f64, n: usize, hi: f64| (span / n as f64).round().clamp(1.0, hi);
        let image = examples()
            .filter_map(|e| e.image.as_ref())
            .map(|g| (g.cols as f64 * IMAGE_SCALE, g.rows as f64 * IMAGE_SCALE))
            .fold((0.0, 0.0), |(w, h): (f64, f64), (a, b)| {
                (w.max(a), h.max(b))
            });
        Sizes {
            step: fit(224.0, steps, 10.0),
            unit: fit(200.0, units, 8.0),
            input: fit(84.0, inputs, 16.0),
            class: fit(100.0, classes, 10.0),
            units,
            inputs,
            classes,
            steps,
            image,
            cell_state: examples().any(|e| e.c.is_some()),
        }
    }

    fn column(&self) -> f64 {
        let image = if self.image.0 > 0.0 {
            self.image.0 + 12.0
        } else {
            0.0
        };
        image + LABELS + self.steps as f64 * self.step + COLUMN_GAP
    }

    /// The heights of the input, h, c and output strips, each at least its label's.
    fn strips(&self) -> [f64; 4] {
        let h = (self.units as f64 * self.unit).max(LABEL);
        let c = if self.cell_state { h } else { 0.0 };
        let input = (self.inputs as f64 * self.input)
            .max(self.image.1)
            .max(LABEL);
        [input, h, c, (self.classes as f64 * self.class).max(LABEL)]
    }

    fn block(&self) -> f64 {
        let strips: f64 = self.strips().iter().sum();
        CAPTION + strips + 3.0 * GAP + AXIS + BLOCK_GAP
    }
}

/// The figure of some runs' examples.
pub struct HiddenFigure<'a> {
    panels: &'a [Panel],
    sizes: Sizes,
}

impl<'a> HiddenFigure<'a> {
    pub fn new(panels: &'a [Panel]) -> HiddenFigure<'a> {
        HiddenFigure {
            panels,
            sizes: Sizes::of(panels),
        }
    }
}

impl Figure for HiddenFigure<'_> {
    fn name(&self) -> &'static str {
        "hidden"
    }
    fn size(&self) -> (u32, u32) {
        let s = &self.sizes;
        let examples = self.panels.iter().map(|p| p.examples.len()).max();
        let w = 2.0 * MARGIN + self.panels.len() as f64 * s.column();
        let h = 2.0 * MARGIN + HEADER + examples.unwrap_or(0) as f64 * s.block() + FOOTER;
        (w.ceil().max(620.0) as u32, h.ceil() as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> Drawn<DB> {
        for (i, panel) in self.panels.iter().enumerate() {
            let x = MARGIN + i as f64 * self.sizes.column();
            draw_header(root, s, panel, x)?;
            for (k, e) in panel.examples.iter().enumerate() {
                let y = MARGIN + HEADER + k as f64 * self.sizes.block();
                let d = Drawer {
                    root,
                    s,
                    sizes: &self.sizes,
                };
                d.example(panel, e, x, y)?;
            }
        }
        let (_, h) = self.size();
        footer(root, s, h as f64 - MARGIN - FOOTER + 8.0)
    }
}

/// Writes `text` with its top-left corner at (x, y) SVG pixels.
fn text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    (x, y): (f64, f64),
    text: &str,
    style: TextStyle<'static>,
) -> Drawn<DB> {
    let style = style.pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(text.to_string(), (s.px(x), s.px(y)), style))
}

/// A run's title: its width and cell, its test accuracy and id, its saturated share.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    p: &Panel,
    x: f64,
) -> Drawn<DB> {
    let a = &p.arch;
    let mut title = format!("H = {} · {}", a.hidden, a.describe());
    if a.bidirectional {
        title.push_str(&format!(" (2H = {} rows)", a.width()));
    }
    text(root, s, (x, MARGIN), &title, s.text(17.0, BLACK))?;
    let id: String = p.run.chars().take(16).collect();
    let line = match p.test_acc {
        Some(acc) => format!("test accuracy {:.2} % · run {id}", 100.0 * acc),
        None => format!("run {id}"),
    };
    text(root, s, (x, MARGIN + 22.0), &line, s.note())?;
    let sat = format!(
        "|h| > {SATURATED}: {:.1} % of the h values drawn",
        100.0 * p.saturated_share()
    );
    text(root, s, (x, MARGIN + 39.0), &sat, s.note())
}

/// What every block of the figure is drawn with.
struct Drawer<'a, 'b, DB: DrawingBackend> {
    root: &'a DrawingArea<DB, Shift>,
    s: &'b Style,
    sizes: &'b Sizes,
}

impl<DB: DrawingBackend> Drawer<'_, '_, DB> {
    /// One example's block, its top-left corner at (x, y).
    fn example(&self, p: &Panel, e: &Example, x: f64, y: f64) -> Drawn<DB> {
        let (root, s, z) = (self.root, self.s, self.sizes);
        self.caption(p, e, x, y)?;
        let mut top = y + CAPTION;
        let mut left = x;
        if let Some(image) = &e.image {
            self.heat(image, (left, top), (IMAGE_SCALE, IMAGE_SCALE), ink)?;
            left += z.image.0 + 12.0;
        }
        let heat_x = left + LABELS;
        let [input_h, h_h, c_h, _] = z.strips();
        let scale = e.input.max_abs().max(1e-6);
        let input_colour = |v: f32| match e.image.is_some() {
            true => ink(v),
            false => diverging(v / scale),
        };
        let note = match (&e.image, e.input.rows) {
            (Some(_), n) => format!("row t, {n} px"),
            (None, 1) => "1 value".to_string(),
            (None, n) => format!("{n} values"),
        };
        self.label(left, top, "x_t", &note)?;
        self.heat(&e.input, (heat_x, top), (z.step, z.input), input_colour)?;
        top += input_h + GAP;
        let units = match p.arch.bidirectional {
            true => format!("{} units (→, ←)", e.h.rows),
            false => format!("{} units", e.h.rows),
        };
        self.label(left, top, "h_t", &units)?;
        self.heat(&e.h, (heat_x, top), (z.step, z.unit), diverging)?;
        self.directions(p, e, heat_x, top)?;
        top += h_h + GAP;
        if let Some(c) = &e.c {
            let m = c.max_abs().max(1e-6);
            self.label(left, top, "c_t", &format!("|c| ≤ {m:.2}"))?;
            self.heat(c, (heat_x, top), (z.step, z.unit), |v| diverging(v / m))?;
            self.directions(p, e, heat_x, top)?;
        }
        top += c_h + GAP;
        self.outputs(p, e, left, top)?;
        let bottom = top + e.outputs.rows as f64 * z.class + 3.0;
        let end = heat_x + e.h.cols as f64 * z.step;
        let steps = format!("{}", e.h.cols);
        text(root, s, (heat_x, bottom), "1", s.text(11.0, GREY))?;
        text(
            root,
            s,
            (end - 7.0 * steps.len() as f64, bottom),
            &steps,
            s.text(11.0, GREY),
        )?;
        let axis = if e.image.is_some() {
            "step t (row)"
        } else {
            "step t"
        };
        text(
            root,
            s,
            ((heat_x + end) / 2.0 - 24.0, bottom),
            axis,
            s.text(11.0, GREY),
        )
    }

    /// Two lines above a block: the example, its prediction, its saturation.
    fn caption(&self, p: &Panel, e: &Example, x: f64, y: f64) -> Drawn<DB> {
        let name = |c: usize| {
            p.class_names
                .get(c)
                .cloned()
                .unwrap_or_else(|| c.to_string())
        };
        let last = e.outputs.cols - 1;
        let first = match e.truth {
            Some(truth) => format!(
                "test #{} · true {} · predicted {} (from step {} on)",
                e.index,
                name(truth),
                name(e.predicted_at(last)),
                e.settled_from()
            ),
            None => format!("test #{} · the head's standardised values", e.index),
        };
        let limit = SATURATED as f32;
        let at_end = (0..e.h.rows)
            .filter(|&u| e.h.at(u, last).abs() > limit)
            .count();
        let second = format!(
            "|h| > {SATURATED}: {:.1} % of values; {at_end} of {} units at step {}",
            100.0 * e.h.saturated() as f64 / e.h.values.len().max(1) as f64,
            e.h.rows,
            e.outputs.cols
        );
        text(self.root, self.s, (x, y), &first, self.s.text(13.0, BLACK))?;
        text(self.root, self.s, (x, y + 16.0), &second, self.s.note())
    }

    /// The prediction after each step: probabilities (the true class framed) or values.
    fn outputs(&self, p: &Panel, e: &Example, left: f64, top: f64) -> Drawn<DB> {
        let (s, z) = (self.s, self.sizes);
        let heat_x = left + LABELS;
        let Some(truth) = e.truth else {
            let m = e.outputs.max_abs().max(1e-6);
            self.label(left, top, "ŷ_t", "after step t")?;
            return self.heat(&e.outputs, (heat_x, top), (z.step, z.class), |v| {
                diverging(v / m)
            });
        };
        self.label(left, top, "p_t", "after step t")?;
        self.heat(&e.outputs, (heat_x, top), (z.step, z.class), ink)?;
        if z.class >= 9.0 {
            for (c, name) in p.class_names.iter().enumerate().take(e.outputs.rows) {
                let short: String = name.chars().take(6).collect();
                let at = (
                    heat_x - 4.0 - 5.5 * short.chars().count() as f64,
                    top + c as f64 * z.class - 1.0,
                );
                text(self.root, s, at, &short, s.text(9.0, GREY))?;
            }
        }
        let y = top + truth as f64 * z.class;
        let x1 = heat_x + e.outputs.cols as f64 * z.step;
        self.root.draw(&Rectangle::new(
            [(s.px(heat_x), s.px(y)), (s.px(x1), s.px(y + z.class))],
            s.line(PALETTE[1], 1.2),
        ))
    }

    /// Bidirectional runs: a line between the forward direction's H units and the
    /// backward direction's, across a heatmap at (x, y).
    fn directions(&self, p: &Panel, e: &Example, x: f64, y: f64) -> Drawn<DB> {
        if !p.arch.bidirectional {
            return Ok(());
        }
        let (s, z) = (self.s, self.sizes);
        let at = s.px(y + p.arch.hidden as f64 * z.unit);
        let end = s.px(x + e.h.cols as f64 * z.step);
        self.root.draw(&PathElement::new(
            vec![(s.px(x), at), (end, at)],
            s.line(BLACK, 1.0),
        ))
    }

    /// A strip's name and a note under it, left of the heatmap.
    fn label(&self, x: f64, y: f64, name: &str, note: &str) -> Drawn<DB> {
        text(self.root, self.s, (x, y), name, self.s.text(14.0, BLACK))?;
        text(
            self.root,
            self.s,
            (x, y + 17.0),
            note,
            self.s.text(10.0, GREY),
        )
    }

    /// `grid` as cells of `cell` (width, height) SVG pixels from (x, y), in `colour`, framed.
    fn heat(
        &self,
        grid: &Grid,
        (x, y): (f64, f64),
        (cw, ch): (f64, f64),
        colour: impl Fn(f32) -> RGBColor,
    ) -> Drawn<DB> {
        let s = self.s;
        for r in 0..grid.rows {
            let (y0, y1) = (s.px(y + r as f64 * ch), s.px(y + (r + 1) as f64 * ch));
            for c in 0..grid.cols {
                let fill = colour(grid.at(r, c));
                if fill == WHITE {
                    continue;
                }
                let (x0, x1) = (s.px(x + c as f64 * cw), s.px(x + (c + 1) as f64 * cw));
                self.root
                    .draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.filled()))?;
            }
        }
        let corner = (x + grid.cols as f64 * cw, y + grid.rows as f64 * ch);
        self.root.draw(&Rectangle::new(
            [(s.px(x), s.px(y)), (s.px(corner.0), s.px(corner.1))],
            s.line(GREY, 0.6),
        ))
    }
}

/// How to read the colours, under the columns.
fn footer<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Style, y: f64) -> Drawn<DB> {
    let lines = [
        "h_t, c_t: blue < 0 < vermillion; h lies in [-1, 1], c is scaled to its largest |c| in \
         the block.",
        "p_t: each class's probability after step t, white 0 to black 1; the true class framed.",
        "A column is one run: one cell with the same weights at every step; h_t's column t is \
         its H numbers at step t.",
    ];
    for (i, line) in lines.iter().enumerate() {
        text(
            root,
            s,
            (MARGIN, y + 14.0 * i as f64),
            line,
            s.text(11.0, GREY),
        )?;
    }
    Ok(())
}

/// `a` to `b` by `t` in [0, 1].
fn mix(a: RGBColor, b: RGBColor, t: f32) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// -1 blue, 0 white, +1 vermillion (Okabe–Ito).
fn diverging(v: f32) -> RGBColor {
    match v >= 0.0 {
        true => mix(WHITE, PALETTE[1], v),
        false => mix(WHITE, PALETTE[0], -v),
    }
}

/// 0 white, 1 black: pixels and probabilities.
fn ink(v: f32) -> RGBColor {
    mix(WHITE, BLACK, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_white() {
        assert_eq!(diverging(0.0), WHITE);
        assert_eq!(diverging(1.0), PALETTE[1]);
        assert_eq!(diverging(-2.0), PALETTE[0]);
        assert_eq!(ink(0.0), WHITE);
        assert_eq!(ink(1.0), BLACK);
    }
}
