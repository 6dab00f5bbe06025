//! Line plots ([`Figure::Line`]) as PNG, for readers without an SVG viewer:
//! the same axes, series, error bars and legend as `svg.rs`, drawn into a
//! bitmap with the public-domain 8×8 font of `font8x8` (no font file).

use std::io::Cursor;

use crate::{EvalError, Figure, Result, Series};
use image::{ImageFormat, Rgb, RgbImage};

use super::svg::PALETTE;

const W: i64 = 760;
const H: i64 = 480;
const LEFT: i64 = 64;
const RIGHT: i64 = 200;
const TOP: i64 = 36;
const BOTTOM: i64 = 52;

struct Canvas(RgbImage);

impl Canvas {
    fn put(&mut self, x: i64, y: i64, c: Rgb<u8>) {
        if (0..W).contains(&x) && (0..H).contains(&y) {
            self.0.put_pixel(x as u32, y as u32, c);
        }
    }

    /// A line 2 px wide (Bresenham), dashed when asked.
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb<u8>, dashed: bool) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err, mut step) = (x0, y0, dx + dy, 0u32);
        loop {
            if !dashed || (step / 6) % 2 == 0 {
                self.put(x, y, c);
                self.put(x + 1, y, c);
                self.put(x, y + 1, c);
            }
            step += 1;
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    fn square(&mut self, (x, y): (i64, i64), half: i64, c: Rgb<u8>, hollow: bool) {
        for i in -half..=half {
            for j in -half..=half {
                if !hollow || i.abs() == half || j.abs() == half {
                    self.put(x + i, y + j, c);
                }
            }
        }
    }

    /// Text from (x, y) at its top left, 8 px per character.
    fn text(&mut self, x: i64, y: i64, s: &str, c: Rgb<u8>) {
        for (k, ch) in s.chars().enumerate() {
            let glyph = match ch as u32 {
                0..=127 => font8x8::legacy::BASIC_LEGACY[ch as usize],
                0x390..=0x3C9 => font8x8::legacy::GREEK_LEGACY[ch as usize - 0x390],
                _ => font8x8::legacy::BASIC_LEGACY[b'?' as usize],
            };
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.put(x + 8 * k as i64 + col, y + row as i64, c);
                    }
                }
            }
        }
    }
}

fn colour(index: usize) -> Rgb<u8> {
    let hex = PALETTE[index % PALETTE.len()].trim_start_matches('#');
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    Rgb([byte(0), byte(2), byte(4)])
}

/// The PNG bytes of a line plot; `None` for any other figure.
pub fn render_plot(figure: &Figure) -> Result<Option<Vec<u8>>> {
    let Figure::Line {
        title,
        x_label,
        y_label,
        y_max,
        series,
    } = figure
    else {
        return Ok(None);
    };
    let mut c = Canvas(RgbImage::from_pixel(
        W as u32,
        H as u32,
        Rgb([255, 255, 255]),
    ));
    let (black, grey) = (Rgb([0, 0, 0]), Rgb([220, 220, 220]));
    let x_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let y_max = y_max.max(1e-9);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let at = |x: f64, y: f64| {
        (
            LEFT + (pw as f64 * x / x_max).round() as i64,
            TOP + ph - (ph as f64 * (y / y_max).clamp(0.0, 1.0)).round() as i64,
        )
    };
    for k in 0..=5 {
        let y = y_max * k as f64 / 5.0;
        let (_, py) = at(0.0, y);
        c.line((LEFT, py), (LEFT + pw, py), grey, false);
        let label = format!("{y:.0}");
        c.text(LEFT - 8 - 8 * label.len() as i64, py - 4, &label, black);
        let x = x_max * k as f64 / 5.0;
        let (px, _) = at(x, 0.0);
        c.line((px, TOP + ph), (px, TOP + ph + 4), black, false);
        let label = format!("{x:.2}");
        c.text(px - 4 * label.len() as i64, TOP + ph + 10, &label, black);
    }
    c.line((LEFT, TOP), (LEFT, TOP + ph), black, false);
    c.line((LEFT, TOP + ph), (LEFT + pw, TOP + ph), black, false);
    c.text(LEFT, 4, title, black);
    c.text(
        LEFT + pw / 2 - 4 * x_label.chars().count() as i64,
        H - 20,
        x_label,
        black,
    );
    c.text(4, TOP - 16, y_label, black);
    for (k, s) in series.iter().enumerate() {
        draw_series(&mut c, s, &at);
        let ly = TOP + 16 * k as i64;
        let col = colour(s.color);
        c.line(
            (W - RIGHT + 12, ly + 4),
            (W - RIGHT + 32, ly + 4),
            col,
            s.dashed,
        );
        c.text(W - RIGHT + 38, ly, &s.label, black);
    }
    let mut bytes = Vec::new();
    c.0.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|e| EvalError::Draw(e.to_string()))?;
    Ok(Some(bytes))
}

fn draw_series(c: &mut Canvas, s: &Series, at: &dyn Fn(f64, f64) -> (i64, i64)) {
    let col = colour(s.color);
    for w in s.points.windows(2) {
        c.line(at(w[0].0, w[0].1), at(w[1].0, w[1].1), col, s.dashed);
    }
    for &(x, y, std) in &s.points {
        if std > 0.0 {
            c.line(at(x, y - std), at(x, y + std), col, false);
        }
        c.square(at(x, y), 3, col, s.dashed);
    }
}

#[cfg(test)]
mod tests {
    use crate::{Figure, Series};

    #[test]
    fn a_line_plot_is_a_png_with_its_series_colour_and_other_figures_are_not() {
        let figure = Figure::Line {
            title: "t".into(),
            x_label: "ε".into(),
            y_label: "accuracy (%)".into(),
            y_max: 100.0,
            series: vec![Series {
                label: "pgd".into(),
                points: vec![(0.0, 100.0, 0.0), (1.0, 0.0, 5.0)],
                dashed: false,
                color: 1,
            }],
        };
        let png = super::render_plot(&figure)
            .expect("render")
            .expect("a line plot");
        let img = image::load_from_memory(&png).expect("decodes").to_rgb8();
        assert_eq!(img.dimensions(), (760, 480));
        let red = image::Rgb([0xd6, 0x27, 0x28]);
        assert!(
            img.pixels().filter(|p| **p == red).count() > 200,
            "the series is drawn"
        );
        let heat = Figure::Heat {
            title: "h".into(),
            rows: vec![],
            cols: vec![],
            values: vec![],
            row_label: String::new(),
            col_label: String::new(),
        };
        assert!(super::render_plot(&heat).expect("render").is_none());
    }
}
