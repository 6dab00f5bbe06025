//! Image figures ([`Figure::Images`]) as PNG: a grid of the images, each
//! scaled up 4× without smoothing, rows and columns 8 px apart on white.
//! Captions live in the Markdown beside the figure (no font is needed).
//! Signed images use a blue–white–red scale with white at 0 and full colour
//! at the image's largest magnitude (perturbations) or at ±1 (fixed).

use std::io::Cursor;

use crate::{EvalError, Figure, GrayImage, PixelScale, Result};
use image::{ImageFormat, Rgb, RgbImage};

/// A pixel coordinate or size, which the image crate counts in `u32`.
fn px(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| EvalError::Draw(format!("an image {n} pixels wide or high")))
}

/// Scale of each pixel.
const SCALE: usize = 4;
/// Space between images.
const GAP: usize = 8;

fn colour(img: &GrayImage, v: f32, max_abs: f32) -> Rgb<u8> {
    let diverging = |t: f32| {
        let fade = (255.0 * (1.0 - t.abs())) as u8;
        if t >= 0.0 {
            Rgb([255, fade, fade])
        } else {
            Rgb([fade, fade, 255])
        }
    };
    match img.scale {
        PixelScale::Signed => diverging(if max_abs > 0.0 {
            (v / max_abs).clamp(-1.0, 1.0)
        } else {
            0.0
        }),
        PixelScale::SignedUnit => diverging(v.clamp(-1.0, 1.0)),
        PixelScale::Unit => {
            // Dark digits on white, as the thesis draws them: 1 − pixel.
            let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            Rgb([g, g, g])
        }
    }
}

/// The PNG bytes of an image figure; `None` for any other figure.
pub fn render(figure: &Figure) -> Result<Option<Vec<u8>>> {
    let Figure::Images { rows, .. } = figure else {
        return Ok(None);
    };
    let cell_w = rows
        .iter()
        .flat_map(|(_, r)| r.iter().map(|i| i.width))
        .max()
        .unwrap_or(1)
        * SCALE;
    let cell_h = rows
        .iter()
        .flat_map(|(_, r)| r.iter().map(|i| i.height))
        .max()
        .unwrap_or(1)
        * SCALE;
    let cols = rows.iter().map(|(_, r)| r.len()).max().unwrap_or(1).max(1);
    let width = GAP + cols * (cell_w + GAP);
    let height = GAP + rows.len().max(1) * (cell_h + GAP);
    let mut canvas = RgbImage::from_pixel(px(width)?, px(height)?, Rgb([255, 255, 255]));
    for (r, (_, images)) in rows.iter().enumerate() {
        for (c, img) in images.iter().enumerate() {
            if img.pixels.len() != img.width * img.height {
                return Err(EvalError::Draw(format!(
                    "image {:?}: {} pixels for {}×{}",
                    img.caption,
                    img.pixels.len(),
                    img.width,
                    img.height
                )));
            }
            let max_abs = img.pixels.iter().fold(0f32, |m, v| m.max(v.abs()));
            let (ox, oy) = (GAP + c * (cell_w + GAP), GAP + r * (cell_h + GAP));
            for y in 0..img.height * SCALE {
                for x in 0..img.width * SCALE {
                    let v = img.pixels[(y / SCALE) * img.width + x / SCALE];
                    canvas.put_pixel(px(ox + x)?, px(oy + y)?, colour(img, v, max_abs));
                }
            }
        }
    }
    let mut bytes = Cursor::new(Vec::new());
    canvas
        .write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| EvalError::Draw(e.to_string()))?;
    Ok(Some(bytes.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(pixels: Vec<f32>, scale: PixelScale) -> GrayImage {
        GrayImage {
            caption: "c".into(),
            width: 2,
            height: 1,
            pixels,
            scale,
        }
    }

    #[test]
    fn images_become_a_png_grid_with_signed_values_in_colour() {
        let fig = Figure::Images {
            title: "t".into(),
            rows: vec![(
                "row".into(),
                vec![
                    image(vec![0.0, 1.0], PixelScale::Unit),
                    image(vec![-0.5, 0.25], PixelScale::Signed),
                    image(vec![-0.5, 0.25], PixelScale::SignedUnit),
                ],
            )],
        };
        let bytes = render(&fig).expect("render").expect("an image figure");
        let decoded = image::load_from_memory(&bytes).expect("png").to_rgb8();
        assert_eq!(
            (decoded.width() as usize, decoded.height() as usize),
            (GAP + 3 * (2 * SCALE + GAP), GAP + SCALE + GAP)
        );
        let at = |x: usize, y: usize| *decoded.get_pixel(x as u32, y as u32);
        assert_eq!(at(GAP, GAP), Rgb([255, 255, 255]), "0 is white");
        assert_eq!(at(GAP + SCALE, GAP), Rgb([0, 0, 0]), "1 is black");
        let second = GAP + 2 * SCALE + GAP;
        assert_eq!(
            at(second, GAP),
            Rgb([0, 0, 255]),
            "the largest negative is blue"
        );
        assert_eq!(
            at(second + SCALE, GAP),
            Rgb([255, 127, 127]),
            "half of it, light red"
        );
        let third = second + 2 * SCALE + GAP;
        assert_eq!(
            at(third, GAP),
            Rgb([127, 127, 255]),
            "−0.5 of a fixed ±1 scale"
        );
        assert_eq!(at(third + SCALE, GAP), Rgb([255, 191, 191]), "0.25 of it");
        assert!(
            render(&Figure::Line {
                title: "l".into(),
                x_label: "x".into(),
                y_label: "y".into(),
                y_max: 1.0,
                series: vec![]
            })
            .expect("ok")
            .is_none()
        );
        let bad = Figure::Images {
            title: "t".into(),
            rows: vec![("r".into(), vec![image(vec![0.0], PixelScale::Unit)])],
        };
        assert!(render(&bad).is_err());
    }
}
