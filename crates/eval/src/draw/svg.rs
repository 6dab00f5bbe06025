//! Small SVG figures written by hand: line plots with error bars, heat
//! maps and grids of histograms. No font files are needed (text is left to the viewer's default
//! font), and no plotting dependency is built.

use std::fmt::Write;

use crate::{BarPanel, Figure, ScatterPanel, Series};

/// The colours of the series, by [`Series::color`] index.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG of a figure; `None` for one that is not a drawing (images:
/// see `png.rs`).
pub fn render(figure: &Figure) -> Option<String> {
    Some(match figure {
        Figure::Line {
            title,
            x_label,
            y_label,
            y_max,
            series,
        } => line_plot(title, (x_label, y_label, *y_max), series),
        Figure::Heat {
            title,
            rows,
            cols,
            values,
            row_label,
            col_label,
        } => heat_map(title, rows, cols, values, row_label, col_label),
        Figure::Bars {
            title,
            x_label,
            cols,
            panels,
        } => bar_grid(title, x_label, *cols, panels),
        Figure::Scatter { title, panels } => scatter(title, panels),
        Figure::Images { .. } => return None,
    })
}

/// Points drawn at most per scatter panel (the first ones; the data keeps
/// them all).
pub const SCATTER_POINTS: usize = 2000;

/// Scatter panels side by side, each scaled to its own points, coloured by
/// class, with a legend of the classes.
pub fn scatter(title: &str, panels: &[ScatterPanel]) -> String {
    let (pw, gap, left, top) = (300.0, 30.0, 20.0, 50.0);
    let w = left + panels.len().max(1) as f64 * (pw + gap) + 60.0;
    let h = top + pw + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let colours = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf",
    ];
    for (k, p) in panels.iter().enumerate() {
        let x0 = left + k as f64 * (pw + gap);
        let pts = &p.points[..p.points.len().min(SCATTER_POINTS)];
        let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for (x, y, _) in pts {
            lo = [lo[0].min(*x), lo[1].min(*y)];
            hi = [hi[0].max(*x), hi[1].max(*y)];
        }
        let scale = |v: f32, i: usize| {
            let span = (hi[i] - lo[i]).max(f32::MIN_POSITIVE);
            f64::from((v - lo[i]) / span) * (pw - 10.0) + 5.0
        };
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle">{}</text><rect x="{x0}" y="{top}" width="{pw}" height="{pw}" fill="none" stroke="#333"/>"##,
            x0 + pw / 2.0,
            top - 6.0,
            esc(&p.title)
        );
        for (x, y, c) in pts {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="1.6" fill="{}"/>"#,
                x0 + scale(*x, 0),
                top + pw - scale(*y, 1),
                colours[*c as usize % colours.len()]
            );
        }
    }
    let lx = left + panels.len().max(1) as f64 * (pw + gap);
    for (c, colour) in colours.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<circle cx="{lx}" cy="{}" r="4" fill="{colour}"/><text x="{}" y="{}">{c}</text>"#,
            top + 10.0 + 18.0 * c as f64,
            lx + 10.0,
            top + 14.0 + 18.0 * c as f64
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Histograms as a grid of small bar charts, `cols` a row; shares (0–1) on
/// the y axis, which runs from 0 to 1 in every panel so that they compare.
pub fn bar_grid(title: &str, x_label: &str, cols: usize, panels: &[BarPanel]) -> String {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols).max(1);
    let (pw, ph, gap_x, gap_y, left, top) = (200.0, 110.0, 40.0, 60.0, 50.0, 50.0);
    let w = left + cols as f64 * (pw + gap_x);
    let h = top + rows as f64 * (ph + gap_y) + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    for (k, p) in panels.iter().enumerate() {
        let x0 = left + (k % cols) as f64 * (pw + gap_x);
        let y0 = top + (k / cols) as f64 * (ph + gap_y);
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle">{}</text>
<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>
<text x="{}" y="{}" text-anchor="end">1</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
            x0 + pw / 2.0,
            y0 - 6.0,
            esc(&p.title),
            x0 - 4.0,
            y0 + 8.0,
            x0 - 4.0,
            y0 + ph
        );
        let (lo, hi) = (
            p.edges.first().copied().unwrap_or(0.0),
            p.edges.last().copied().unwrap_or(1.0),
        );
        let sx = |v: f64| x0 + (v - lo) / (hi - lo).max(f64::MIN_POSITIVE) * pw;
        match &p.shares {
            Some(shares) => {
                for (i, v) in shares.iter().enumerate() {
                    let (a, b) = (p.edges[i], p.edges[i + 1]);
                    let bh = v.clamp(0.0, 1.0) * ph;
                    let _ = writeln!(
                        s,
                        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#1f77b4" stroke="white"/>"##,
                        sx(a),
                        y0 + ph - bh,
                        sx(b) - sx(a)
                    );
                }
            }
            None => {
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="middle">–</text>"#,
                    x0 + pw / 2.0,
                    y0 + ph / 2.0
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{x0}" y="{}" text-anchor="start">{lo}</text><text x="{}" y="{}" text-anchor="end">{hi}</text><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            y0 + ph + 14.0,
            x0 + pw,
            y0 + ph + 14.0,
            x0 + pw / 2.0,
            y0 + ph + 28.0,
            esc(x_label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Lines against x, with the y axis `(x label, y label, top)` from 0 to
/// its top (accuracy in % against ε, for most figures).
pub fn line_plot(title: &str, axes: (&str, &str, f64), series: &[Series]) -> String {
    let (x_label, y_label, y_max) = axes;
    let y_max = if y_max > 0.0 && y_max.is_finite() {
        y_max
    } else {
        1.0
    };
    let (w, h, left, right, top, bottom) = (720.0, 440.0, 60.0, 220.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        x0 = x0.min(x);
        x1 = x1.max(x);
    }
    if !x0.is_finite() || x1 <= x0 {
        (x0, x1) = (0.0, 1.0);
    }
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| top + (1.0 - y.clamp(0.0, y_max) / y_max) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>
"#,
        left + pw / 2.0,
        esc(title)
    );
    for i in 0..=5 {
        let y = (y_max * i as f64 / 5.0 * 1e6).round() / 1e6;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{0}" y1="{1}" y2="{1}" stroke="#ddd"/><text x="{2}" y="{3}" text-anchor="end">{y}</text>"##,
            left + pw,
            sy(y),
            left - 6.0,
            sy(y) + 4.0
        );
    }
    for i in 0..=6 {
        let x = x0 + (x1 - x0) * i as f64 / 6.0;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            sx(x),
            top + ph + 18.0,
            (x * 1000.0).round() / 1000.0
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"##,
        left + pw / 2.0,
        h - 10.0,
        esc(x_label),
        top + ph / 2.0,
        top + ph / 2.0,
        esc(y_label)
    );
    for (k, se) in series.iter().enumerate() {
        let color = PALETTE[se.color % PALETTE.len()];
        let dash = if se.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p.0), sy(p.1)))
            .collect();
        if pts.len() > 1 {
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                pts.join(" "),
                color
            );
        }
        for &(x, y, e) in &se.points {
            if e > 0.0 {
                let _ = writeln!(
                    s,
                    r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="{3}"/>"#,
                    sx(x),
                    sy(y - e),
                    sy(y + e),
                    color
                );
            }
            let fill = if se.dashed { "white" } else { color };
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{}"/>"#,
                sx(x),
                sy(y),
                color
            );
        }
        let ly = top + 14.0 + 18.0 * k as f64;
        let lx = left + pw + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 24.0,
            color,
            lx + 30.0,
            ly + 4.0,
            esc(&se.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A matrix of percentages, rows × columns, shaded by value.
pub fn heat_map(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
    row_label: &str,
    col_label: &str,
) -> String {
    let cell = 80.0;
    // Column names longer than a cell are written at 45° above it.
    let slanted = cols.iter().any(|c| c.chars().count() > 10);
    let (left, top) = (130.0, if slanted { 170.0 } else { 70.0 });
    let w = left + cell * cols.len() as f64 + 20.0;
    let h = top + cell * rows.len() as f64 + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>
<text x="{}" y="42" text-anchor="middle">{}</text>"#,
        w / 2.0,
        esc(title),
        left + cell * cols.len() as f64 / 2.0,
        esc(col_label)
    );
    for (j, c) in cols.iter().enumerate() {
        let (x, y) = (left + cell * (j as f64 + 0.5), top - 8.0);
        if slanted {
            let _ = writeln!(
                s,
                r#"<text x="{x}" y="{y}" transform="rotate(-45 {x} {y})" text-anchor="start">{}</text>"#,
                esc(c)
            );
        } else {
            let _ = writeln!(
                s,
                r#"<text x="{x}" y="{y}" text-anchor="middle">{}</text>"#,
                esc(c)
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + cell / 2.0 + 4.0,
            esc(r)
        );
        for (j, v) in values[i].iter().enumerate() {
            let x = left + cell * j as f64;
            let (fill, text) = match v {
                Some(v) => {
                    let t = (v / 100.0).clamp(0.0, 1.0);
                    let (r, g, b) = (
                        (255.0 - 200.0 * t) as u8,
                        (255.0 - 120.0 * t) as u8,
                        (255.0 - 60.0 * t) as u8,
                    );
                    (format!("rgb({r},{g},{b})"), format!("{v:.1}"))
                }
                None => ("#eee".to_string(), "–".to_string()),
            };
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#fff"/><text x="{}" y="{}" text-anchor="middle">{text}</text>"##,
                x + cell / 2.0,
                y + cell / 2.0 + 4.0
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<text x="12" y="{}" transform="rotate(-90 12 {})" text-anchor="middle">{}</text>"#,
        top + cell * rows.len() as f64 / 2.0,
        top + cell * rows.len() as f64 / 2.0,
        esc(row_label)
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_with_one_line_per_series_and_escaped_text() {
        let s = line_plot(
            "a <b> & c",
            ("ε", "accuracy (%)", 100.0),
            &[
                Series {
                    label: "ours".into(),
                    points: vec![(0.0, 99.0, 0.5), (0.3, 20.0, 5.0)],
                    dashed: false,
                    color: 0,
                },
                Series {
                    label: "thesis".into(),
                    points: vec![(0.0, 98.0, 0.1), (0.3, 93.0, 1.2)],
                    dashed: true,
                    color: 0,
                },
            ],
        );
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 2);
        assert_eq!(
            s.matches("stroke-dasharray").count(),
            2,
            "thesis line and its legend entry"
        );
        assert!(s.contains("a &lt;b&gt; &amp; c"));
        let h = heat_map(
            "t",
            &["r".into()],
            &["c1".into(), "c2".into()],
            &[vec![Some(50.0), None]],
            "source",
            "target",
        );
        assert!(h.contains(">50.0<") && h.contains(">–<"));
    }

    #[test]
    fn a_scatter_draws_each_point_in_its_class_colour() {
        let s = scatter(
            "t",
            &[ScatterPanel {
                title: "clean".into(),
                points: vec![(0.0, 0.0, 0), (1.0, 1.0, 1), (0.5, 0.0, 1)],
            }],
        );
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        // Three points and the ten legend dots.
        assert_eq!(s.matches("<circle").count(), 3 + 10);
        assert_eq!(s.matches(r##"r="1.6" fill="#d62728""##).count(), 2);
        // Corners of the range land at the panel's margins (5 px inside).
        assert!(
            s.contains(r#"cx="25.0" cy="345.0""#) && s.contains(r#"cx="315.0" cy="55.0""#),
            "{s}"
        );
    }

    #[test]
    fn a_bar_grid_draws_one_bar_per_bin_and_a_dash_where_missing() {
        let panels = [
            BarPanel {
                title: "a".into(),
                edges: vec![0.0, 50.0, 100.0],
                shares: Some(vec![0.25, 0.75]),
            },
            BarPanel {
                title: "b".into(),
                edges: vec![0.0, 50.0, 100.0],
                shares: None,
            },
        ];
        let s = bar_grid("t", "confidence", 2, &panels);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches(r##"fill="#1f77b4""##).count(), 2);
        // The 0.75 bar is three times as tall as the 0.25 one (110 px panels).
        assert!(s.contains(r#"height="27.5""#) && s.contains(r#"height="82.5""#));
        assert!(s.contains(">–<"));
        assert!(
            render(&Figure::Images {
                title: "x".into(),
                rows: vec![]
            })
            .is_none()
        );
    }
}
