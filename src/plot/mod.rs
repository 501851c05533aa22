//! Charts, and nothing else: plain data in, PNG and SVG out. plotters draws text with ab_glyph from the
//! bundled DejaVu Sans (`assets/fonts`, licence alongside), so no system font library is needed.

pub mod charts;

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// The font family every chart uses.
pub const FAMILY: &str = "sans-serif";

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font (a test renders text with it).
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// A chart: draws itself on any backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32) {
        (1000, 640)
    }
    /// Draws on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> std::result::Result<(), String>;
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Numerical(format!("chart: {e}"))
}

/// Writes `dir/name.png` and `dir/name.svg`; returns both paths.
pub fn save<C: Chart>(dir: &Path, name: &str, chart: &C) -> Result<(PathBuf, PathBuf)> {
    register_font();
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let (w, h) = chart.size();
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    {
        let root = BitMapBackend::new(&png, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        chart.draw(&root).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    {
        let root = SVGBackend::new(&svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        chart.draw(&root).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok((png, svg))
}

/// Distinct, readable series colours.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A font of the chart family.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}
