//! A [`Figure`](crate::Figure) as a file: SVG for every drawing (line
//! plots with error bars, heat maps, grids of histograms, scatter plots)
//! and, with the feature `png`, PNG for line plots (for readers without an
//! SVG viewer) and for image figures. `cargo xtask reproduce` and `cargo
//! xtask audit` write their figures with these; a user's own experiment or
//! audit can do the same.
//!
//! ```
//! use sgbn_eval::{Figure, Series, draw};
//!
//! let figure = Figure::Line {
//!     title: "FGSM".into(),
//!     x_label: "ε".into(),
//!     y_label: "accuracy (%)".into(),
//!     y_max: 100.0,
//!     series: vec![Series {
//!         label: "cnn".into(),
//!         points: vec![(0.0, 99.0, 0.0), (0.1, 40.0, 2.0)],
//!         dashed: false,
//!         color: 0,
//!     }],
//! };
//! let svg = draw::svg(&figure).expect("a line plot is a drawing");
//! assert!(svg.starts_with("<svg") && svg.contains("cnn"));
//! ```

#[cfg(feature = "png")]
mod png;
#[cfg(feature = "png")]
mod png_plot;
mod svg;

#[cfg(feature = "png")]
pub use png::render as png_images;
#[cfg(feature = "png")]
pub use png_plot::render_plot as png_plot;
pub use svg::{PALETTE, bar_grid, heat_map, line_plot, render as svg, scatter};
