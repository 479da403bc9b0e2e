//! The unrolled network as an SVG drawing, with the shapes on its arrows.
use super::*;

/// Where the drawing puts its cells: their size, the gap between them, and the first one's
/// corner.
#[derive(Clone, Copy)]
struct Geometry {
    cell_w: f64,
    cell_h: f64,
    gap: f64,
    x0: f64,
    y0: f64,
}

const GEOMETRY: Geometry = Geometry {
    cell_w: 120.0,
    cell_h: 70.0,
    gap: 70.0,
    x0: 40.0,
    y0: 110.0,
};

/// An SVG drawing of the unrolled network: cells for t = 1, 2, 3, ..., T sharing weights,
/// each holding H units, with the shapes on the arrows.
pub fn diagram_svg(e: &Explanation) -> String {
    let (b, t, f, h) = (e.batch, e.timesteps, e.features, e.num_units);
    let a = e.arch();
    let cell = a.cell.title();
    let (parts, head_in) = not_drawn(e, &a);
    let stack = stack_note(e, &a);
    let steps: Vec<String> = vec![
        "1".into(),
        "2".into(),
        "3".into(),
        "…".into(),
        t.to_string(),
    ];
    let Geometry {
        cell_w, gap, x0, ..
    } = GEOMETRY;
    let width = x0 * 2.0 + steps.len() as f64 * cell_w + (steps.len() as f64 - 1.0) * gap + 230.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="330" viewBox="0 0 {width:.0} 330" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
<text x="{x0}" y="30" font-size="16" font-weight="bold">The {cell} unrolled over T = {t} timesteps: one cell, the same weights at every step, H = {h} units inside</text>
<text x="{x0}" y="52" fill="#555">Batch B = {b}; each image is T = {t} rows of F = {f} pixels. num_units sets the width of every arrow between cells, not the number of cells.</text>
{stack}{parts}"##
    );
    let x = unrolled_cells(&mut s, e, &a, &steps);
    head_and_footer(&mut s, e, &a, x, &head_in);
    if e.images {
        s
    } else {
        s.replace(
            &format!("each image is T = {t} rows of F = {f} pixels"),
            &format!("each sequence is T = {t} steps of F = {f} features"),
        )
        .replace("numbers per image", "numbers per sequence")
    }
}

/// The note on what the drawing leaves out (mean pooling, the conv branch), and the name of
/// what the head reads.
fn not_drawn(e: &Explanation, a: &Arch) -> (String, String) {
    let (b, t, f, w) = (e.batch, e.timesteps, e.features, a.width());
    let mut head_in = if a.bidirectional {
        "[h_T | h'_1]"
    } else {
        "h_T"
    }
    .to_string();
    if a.pooling == Pooling::Mean {
        head_in = "mean_t".into();
    }
    let conv = crate::model::conv_param_count(a);
    let parts = match (a.pooling, a.conv) {
        (Pooling::Last, 0) => String::new(),
        (pooling, n) => {
            let mut said = Vec::new();
            if pooling == Pooling::Mean {
                said.push(format!(
                    "the head reads the mean of the outputs over each sequence's real steps (mean_t [{b}, {w}]), not h_T"
                ));
            }
            if n > 0 {
                said.push(format!(
                    "beside the cells, a convolutional branch reads the same x [{b}, {t}, {f}]: {n}, {}, {n} filters of 8, 5, 3 steps, batch norm and ReLU, then the mean over the steps, z [{b}, {n}] ({} parameters)",
                    2 * n,
                    thousands(conv)
                ));
                head_in = format!("[{head_in} | z]");
            }
            format!(
                r##"<text x="40" y="92" fill="#555">Not drawn: {}.</text>
"##,
                said.join("; ")
            )
        }
    };
    (parts, head_in)
}

/// The note that only the first layer's forward cell is drawn, when there are more.
fn stack_note(e: &Explanation, a: &Arch) -> String {
    let w = a.width();
    if a.layers > 1 || a.bidirectional {
        format!(
            r##"<text x="40" y="74" fill="#555">Drawn: the first layer's forward cell. The model ({}) has {} such cells{}; the head reads D x H = {w} numbers per image.</text>
"##,
            e.model,
            a.layers * a.directions(),
            if a.dropout > 0.0 {
                format!(", dropout {} between layers in training", a.dropout)
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    }
}

/// The cells for each step label, with the state arrows between them and the inputs below;
/// where the next cell would start.
fn unrolled_cells(s: &mut String, e: &Explanation, a: &Arch, steps: &[String]) -> f64 {
    let (b, f, h) = (e.batch, e.features, e.num_units);
    let cell = a.cell.title();
    let state = if a.cell == Cell::Lstm { "h, c" } else { "h" };
    let Geometry {
        cell_w,
        cell_h,
        gap,
        x0,
        y0,
    } = GEOMETRY;
    let mut x = x0;
    for (i, label) in steps.iter().enumerate() {
        let cx = x + cell_w / 2.0;
        if label == "…" {
            let _ = writeln!(
                s,
                r##"<text x="{cx}" y="{:.0}" text-anchor="middle" font-size="28">…</text>"##,
                y0 + cell_h / 2.0 + 8.0
            );
        } else {
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y0}" width="{cell_w}" height="{cell_h}" rx="8" fill="#dbe9f6" stroke="#0072b2" stroke-width="1.5"/>
<text x="{cx}" y="{:.0}" text-anchor="middle" font-weight="bold">{cell} cell, t = {label}</text>
<text x="{cx}" y="{:.0}" text-anchor="middle">H = {h} units</text>
<line x1="{cx}" y1="{:.0}" x2="{cx}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{cx}" y="{:.0}" text-anchor="middle" fill="#555">x_{label} [{b}, {f}]</text>"##,
                y0 + 30.0,
                y0 + 50.0,
                y0 + cell_h + 60.0,
                y0 + cell_h + 4.0,
                y0 + cell_h + 78.0,
            );
        }
        if i + 1 < steps.len() {
            let (ax, bx) = (x + cell_w + 2.0, x + cell_w + gap - 2.0);
            let _ = writeln!(
                s,
                r##"<line x1="{ax}" y1="{:.0}" x2="{bx}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">{state} [{b}, {h}]</text>"##,
                y0 + cell_h / 2.0,
                y0 + cell_h / 2.0,
                (ax + bx) / 2.0,
                y0 + cell_h / 2.0 - 8.0
            );
        }
        x += cell_w + gap;
    }
    x
}

/// The arrow into the dense head, the head, and the parameter line at the foot.
fn head_and_footer(s: &mut String, e: &Explanation, a: &Arch, x: f64, head_in: &str) {
    let (b, t, c) = (e.batch, e.timesteps, e.classes);
    let Geometry {
        cell_h,
        gap,
        x0,
        y0,
        ..
    } = GEOMETRY;
    let conv = crate::model::conv_param_count(a);
    let head_width = a.head_input();
    let (recurrent_formula, head_formula) = formula_parts(a, false, "F", None);
    let recurrent = e.totals.formula_pytorch - conv - (head_width * c + c);
    let hx = x - gap;
    let dx = hx + 70.0;
    let _ = writeln!(
        s,
        r##"<line x1="{:.0}" y1="{:.0}" x2="{dx:.0}" y2="{:.0}" stroke="#333" marker-end="url(#arrow)"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-size="11" fill="#555">{head_in} [{b}, {head_width}]</text>
<rect x="{dx:.0}" y="{y0}" width="120" height="{cell_h}" rx="8" fill="#fde0c5" stroke="#d55e00" stroke-width="1.5"/>
<text x="{:.0}" y="{:.0}" text-anchor="middle" font-weight="bold">Dense head</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle">{head_width} → {c}</text>
<text x="{:.0}" y="{:.0}" text-anchor="middle" fill="#555">logits [{b}, {c}]</text>
<text x="{x0}" y="312" fill="#555">Parameters: {recurrent_formula} = {} in the {} (shared by all {t} steps){} + {head_formula} = {} in the head; total {}.</text>
</svg>"##,
        hx + 2.0,
        y0 + cell_h / 2.0,
        y0 + cell_h / 2.0,
        (hx + dx) / 2.0,
        y0 + cell_h / 2.0 - 8.0,
        dx + 60.0,
        y0 + 30.0,
        dx + 60.0,
        y0 + 50.0,
        dx + 60.0,
        y0 + cell_h + 25.0,
        thousands(recurrent),
        Arch {
            pooling: Pooling::Last,
            conv: 0,
            ..*a
        }
        .describe(),
        match conv {
            0 => String::new(),
            n => format!(" + {} in the conv branch", thousands(n)),
        },
        thousands(head_width * c + c),
        thousands(e.totals.params_pytorch),
    );
}
