/*!
The grid of misclassified digits: each tile is a test image (white on black, scaled up), with
its true label in green on the left and the predicted label in red on the right of a strip
below it, drawn in a 3x5 pixel font. Encoded as an RGB PNG (TensorBoard's image dashboard
wants RGB).
*/
use anyhow::Result;

/// Pixels per image pixel.
const SCALE: usize = 2;
/// Font pixels per glyph pixel.
const GLYPH_SCALE: usize = 2;
const GAP: usize = 4;
const STRIP: usize = 5 * GLYPH_SCALE + 4;
const GREEN: [u8; 3] = [60, 220, 90];
const RED: [u8; 3] = [255, 70, 70];
const BACKGROUND: [u8; 3] = [40, 40, 48];

/// One misclassified example: the image (rows of pixels in [0, 1]) and its labels.
pub struct Tile {
    pub pixels: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
    pub truth: usize,
    pub predicted: usize,
}

/// An RGB image.
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Rgb {
    fn new(width: usize, height: usize) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            data.extend_from_slice(&BACKGROUND);
        }
        Rgb {
            width,
            height,
            data,
        }
    }

    fn put(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.data[i..i + 3].copy_from_slice(&rgb);
        }
    }

    /// PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.data)?;
        writer.finish()?;
        Ok(out)
    }
}

/// Lays `tiles` out in rows of `columns`. An empty list gives one empty tile's space.
pub fn grid(tiles: &[Tile], columns: usize) -> Rgb {
    let (rows, cols) = tiles.first().map(|t| (t.rows, t.cols)).unwrap_or((28, 28));
    let tile_w = cols * SCALE;
    let tile_h = rows * SCALE + STRIP;
    let columns = columns.clamp(1, tiles.len().max(1));
    let grid_rows = tiles.len().div_ceil(columns).max(1);
    let mut img = Rgb::new(
        columns * (tile_w + GAP) + GAP,
        grid_rows * (tile_h + GAP) + GAP,
    );
    for (i, tile) in tiles.iter().enumerate() {
        let x0 = GAP + (i % columns) * (tile_w + GAP);
        let y0 = GAP + (i / columns) * (tile_h + GAP);
        for r in 0..tile.rows {
            for c in 0..tile.cols {
                let v = (tile.pixels[r * tile.cols + c].clamp(0.0, 1.0) * 255.0).round() as u8;
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        img.put(x0 + c * SCALE + dx, y0 + r * SCALE + dy, [v, v, v]);
                    }
                }
            }
        }
        let y = y0 + rows * SCALE + 2;
        draw_digit(&mut img, tile.truth, x0 + 2, y, GREEN);
        let right = x0 + tile_w - 3 * GLYPH_SCALE - 2;
        draw_digit(&mut img, tile.predicted, right, y, RED);
    }
    img
}

/// Draws a number (one glyph per decimal digit) with its top-left at (x, y).
fn draw_digit(img: &mut Rgb, n: usize, x: usize, y: usize, rgb: [u8; 3]) {
    for (k, ch) in n.to_string().bytes().enumerate() {
        let glyph = FONT[(ch - b'0') as usize];
        let gx = x + k * 4 * GLYPH_SCALE;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..GLYPH_SCALE {
                        for dx in 0..GLYPH_SCALE {
                            img.put(gx + col * GLYPH_SCALE + dx, y + row * GLYPH_SCALE + dy, rgb);
                        }
                    }
                }
            }
        }
    }
}

/// 3x5 glyphs of 0-9, one row per entry, the high bit on the left.
const FONT: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_has_the_expected_size_and_encodes_as_rgb_png() {
        let tiles: Vec<Tile> = (0..10)
            .map(|i| Tile {
                pixels: vec![1.0; 28 * 28],
                rows: 28,
                cols: 28,
                truth: i,
                predicted: 9 - i,
            })
            .collect();
        let img = grid(&tiles, 8);
        assert_eq!(img.width, 8 * (56 + GAP) + GAP);
        assert_eq!(img.height, 2 * (56 + STRIP + GAP) + GAP);
        let png = img.png().unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().color_type, png::ColorType::Rgb);
        assert_eq!(reader.info().width as usize, img.width);
        // The true label's glyph is drawn in green below the first tile.
        let y = GAP + 56 + 2;
        let i = (y * img.width + GAP + 2) * 3;
        assert_eq!(&img.data[i..i + 3], &GREEN);
    }

    #[test]
    fn no_tiles_is_still_an_image() {
        let img = grid(&[], 8);
        assert!(img.width > 0 && img.height > 0);
        assert!(img.png().is_ok());
    }
}
