//! The chart types the report needs: panels of lines (log axes drawn as log10 of the data with powers of ten
//! as tick labels), stacked bars, and image grids.

use super::{Chart, PALETTE, font};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line (optionally with markers and vertical error bars).
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (data units, before any log transform).
    pub points: Vec<(f64, f64)>,
    /// Dashed line.
    pub dashed: bool,
    /// Markers only, no line.
    pub markers_only: bool,
    /// Error bars `(x, low, high)`.
    pub bars: Vec<(f64, f64, f64)>,
    /// Palette index.
    pub color: usize,
}

/// One panel of lines.
#[derive(Debug, Clone, Default)]
pub struct LinePanel {
    /// Panel title.
    pub title: String,
    /// X axis label, with units.
    pub x_label: String,
    /// Y axis label, with units.
    pub y_label: String,
    /// Plot log10(x), label ticks as powers of ten.
    pub log_x: bool,
    /// Plot log10(y), label ticks as powers of ten.
    pub log_y: bool,
    /// Fixed y range (in data units), else from the data.
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub series: Vec<Series>,
    /// Where the legend goes.
    pub legend: Corner,
}

/// A corner of a panel, for its legend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Corner {
    /// Upper left.
    UpperLeft,
    /// Upper right.
    UpperRight,
    /// Lower left.
    LowerLeft,
    /// Lower right.
    #[default]
    LowerRight,
}

impl Corner {
    fn position(self) -> SeriesLabelPosition {
        match self {
            Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
            Corner::UpperRight => SeriesLabelPosition::UpperRight,
            Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
            Corner::LowerRight => SeriesLabelPosition::LowerRight,
        }
    }
}

/// Panels side by side (or in a grid of `columns`).
#[derive(Debug, Clone, Default)]
pub struct LinePanels {
    /// Figure title.
    pub title: String,
    /// Panels.
    pub panels: Vec<LinePanel>,
    /// Columns of the grid.
    pub columns: usize,
    /// Pixel size.
    pub size: (u32, u32),
}

fn tf(v: f64, log: bool) -> f64 {
    if log { v.max(1e-300).log10() } else { v }
}

fn pow_label(v: f64, log: bool) -> String {
    if log {
        let e = v.round();
        if (v - e).abs() < 1e-6 {
            if (-2.0..=3.0).contains(&e) {
                let x = 10f64.powf(e);
                if x >= 1.0 { format!("{x:.0}") } else { format!("{x}") }
            } else {
                format!("1e{e:.0}")
            }
        } else {
            String::new()
        }
    } else if v.abs() >= 1e7 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.1e}")
    } else if v.abs() >= 1e3 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &LinePanel) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let xs = p.series.iter().flat_map(|s| s.points.iter().map(|pt| tf(pt.0, p.log_x)));
    let (x0, x1) = range(xs);
    let (y0, y1) = match p.y_range {
        Some((a, b)) => (tf(a, p.log_y), tf(b, p.log_y)),
        None => range(
            p.series
                .iter()
                .flat_map(|s| s.points.iter().map(|pt| pt.1).chain(s.bars.iter().flat_map(|b| [b.1, b.2])))
                .filter(|v| !p.log_y || *v > 0.0)
                .map(|v| tf(v, p.log_y)),
        ),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, font(18))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    let (lx, ly) = (p.log_x, p.log_y);
    let xf = move |v: &f64| pow_label(*v, lx);
    let yf = move |v: &f64| pow_label(*v, ly);
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .x_labels(if lx { ((x1 - x0).ceil() as usize + 1).clamp(2, 12) } else { 8 })
        .y_labels(if ly { ((y1 - y0).ceil() as usize + 1).clamp(2, 12) } else { 8 })
        .label_style(font(13))
        .axis_desc_style(font(15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    let clip = |y: f64| y.clamp(y0, y1);
    for s in &p.series {
        let color = PALETTE[s.color % PALETTE.len()];
        // Points outside a fixed y range are dropped, not flattened onto its edge.
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|pt| !p.log_y || pt.1 > 0.0)
            .map(|&(x, y)| (tf(x, p.log_x), tf(y, p.log_y)))
            .filter(|&(_, y)| p.y_range.is_none() || (y0 - 1e-9..=y1 + 1e-9).contains(&y))
            .collect();
        let style = color.stroke_width(2);
        let anno = if s.markers_only {
            chart.draw_series(pts.iter().map(|&pt| Circle::new(pt, 4, color.filled()))).map_err(e)?
        } else if s.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style)).map_err(e)?
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(e)?
        };
        if !s.label.is_empty() {
            let dashed = s.dashed;
            let markers = s.markers_only;
            anno.label(&s.label).legend(move |(x, y)| -> DynElement<'static, DB, (i32, i32)> {
                if markers {
                    Circle::new((x + 10, y), 4, color.filled()).into_dyn()
                } else if dashed {
                    plotters::element::DashedPathElement::new(vec![(x, y), (x + 20, y)], 6, 4, color.stroke_width(2))
                        .into_dyn()
                } else {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)).into_dyn()
                }
            });
        }
        if !s.bars.is_empty() {
            chart
                .draw_series(s.bars.iter().map(|&(x, lo, hi)| {
                    let (lo, hi) = if p.log_y { (lo.max(10f64.powf(y0)), hi) } else { (lo, hi) };
                    let (x, lo, hi) = (tf(x, p.log_x), clip(tf(lo, p.log_y)), clip(tf(hi, p.log_y)));
                    ErrorBar::new_vertical(x, lo, (lo + hi) / 2.0, hi, color.stroke_width(2), 8)
                }))
                .map_err(e)?;
        }
    }
    if p.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .position(p.legend.position())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(font(13))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

fn grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    n: usize,
    columns: usize,
) -> Result<Vec<DrawingArea<DB, Shift>>, String> {
    let body = root.titled(title, font(22)).map_err(|e| e.to_string())?;
    let cols = columns.max(1).min(n.max(1));
    let rows = n.div_ceil(cols).max(1);
    Ok(body.split_evenly((rows, cols)))
}

impl Chart for LinePanels {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let areas = grid(root, &self.title, self.panels.len(), self.columns)?;
        for (p, a) in self.panels.iter().zip(areas.iter()) {
            draw_panel(a, p)?;
        }
        Ok(())
    }
}

/// One stacked bar.
#[derive(Debug, Clone, Default)]
pub struct Bar {
    /// X label.
    pub label: String,
    /// Segments: (legend key, value).
    pub segments: Vec<(String, f64)>,
}

/// One panel of stacked bars.
#[derive(Debug, Clone, Default)]
pub struct BarPanel {
    /// Panel title.
    pub title: String,
    /// Y label.
    pub y_label: String,
    /// Bars.
    pub bars: Vec<Bar>,
}

/// Panels of stacked bars with one legend of segment keys.
#[derive(Debug, Clone, Default)]
pub struct StackedBars {
    /// Figure title.
    pub title: String,
    /// Panels.
    pub panels: Vec<BarPanel>,
    /// Columns.
    pub columns: usize,
    /// Pixel size.
    pub size: (u32, u32),
}

/// Twenty distinct colours for the segments of stacked bars (the tab20 set).
const BAR_COLORS: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(255, 127, 14),
    RGBColor(255, 187, 120),
    RGBColor(44, 160, 44),
    RGBColor(152, 223, 138),
    RGBColor(214, 39, 40),
    RGBColor(255, 152, 150),
    RGBColor(148, 103, 189),
    RGBColor(197, 176, 213),
    RGBColor(140, 86, 75),
    RGBColor(196, 156, 148),
    RGBColor(227, 119, 194),
    RGBColor(247, 182, 210),
    RGBColor(188, 189, 34),
    RGBColor(219, 219, 141),
    RGBColor(23, 190, 207),
    RGBColor(158, 218, 229),
    RGBColor(90, 90, 90),
    RGBColor(170, 170, 170),
];

impl Chart for StackedBars {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let mut keys: Vec<String> = Vec::new();
        for p in &self.panels {
            for b in &p.bars {
                for (k, _) in &b.segments {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
        }
        // Reference systems in greys, the rest in colour.
        let color_of = |k: &str| {
            if k.starts_with("CrypTen") {
                if k.contains("dealer") { RGBColor(170, 170, 170) } else { RGBColor(90, 90, 90) }
            } else {
                BAR_COLORS[keys.iter().position(|x| x == k).unwrap_or(0) % 18]
            }
        };
        let body = root.titled(&self.title, font(22)).map_err(e)?;
        let (plots, legend) = body.split_horizontally(body.dim_in_pixel().0.saturating_sub(260));
        let cols = self.columns.max(1).min(self.panels.len().max(1));
        let areas = plots.split_evenly((self.panels.len().div_ceil(cols).max(1), cols));
        for (p, area) in self.panels.iter().zip(areas.iter()) {
            let top =
                p.bars.iter().map(|b| b.segments.iter().map(|s| s.1).sum::<f64>()).fold(0.0, f64::max).max(1e-9) * 1.12;
            let n = p.bars.len();
            let labels: Vec<String> = p.bars.iter().map(|b| b.label.clone()).collect();
            let xf = move |v: &f64| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            };
            let mut chart = ChartBuilder::on(area)
                .caption(&p.title, font(17))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(72)
                .build_cartesian_2d(-0.6f64..(n as f64 - 0.4), 0f64..top)
                .map_err(e)?;
            chart
                .configure_mesh()
                .y_desc(&p.y_label)
                .x_labels(n.max(1) * 4 + 1)
                .x_label_formatter(&xf)
                .y_label_formatter(&|v| pow_label(*v, false))
                .label_style(font(13))
                .axis_desc_style(font(15))
                .light_line_style(WHITE.mix(0.0))
                .disable_x_mesh()
                .draw()
                .map_err(e)?;
            for (i, b) in p.bars.iter().enumerate() {
                let mut base = 0.0;
                for (k, v) in &b.segments {
                    let c = color_of(k);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(i as f64 - 0.35, base), (i as f64 + 0.35, base + v)],
                            c.filled(),
                        )))
                        .map_err(e)?;
                    base += v;
                }
                let label = if base >= 100.0 { format!("{base:.0}") } else { format!("{base:.1}") };
                chart
                    .draw_series(std::iter::once(Text::new(label, (i as f64 - 0.2, base + top * 0.05), font(13))))
                    .map_err(e)?;
            }
        }
        // One legend for all panels, in its own column.
        legend.draw(&Text::new("link and phase", (10, 40), font(15))).map_err(e)?;
        for (j, k) in keys.iter().enumerate() {
            let y = 70 + 24 * j as i32;
            legend.draw(&Rectangle::new([(10, y), (28, y + 14)], color_of(k).filled())).map_err(e)?;
            legend.draw(&Text::new(k.clone(), (36, y), font(13))).map_err(e)?;
        }
        Ok(())
    }
}

/// A labelled row of 28 x 28 grey images with captions.
#[derive(Debug, Clone, Default)]
pub struct ImageRow {
    /// Row label.
    pub label: String,
    /// Images (784 values in [0, 1]) and their captions.
    pub images: Vec<(Vec<f64>, String)>,
}

/// A grid of images.
#[derive(Debug, Clone, Default)]
pub struct ImageGrid {
    /// Figure title.
    pub title: String,
    /// Rows.
    pub rows: Vec<ImageRow>,
}

impl Chart for ImageGrid {
    fn size(&self) -> (u32, u32) {
        let cols = self.rows.iter().map(|r| r.images.len()).max().unwrap_or(1) as u32;
        (230 + cols * 104, 60 + self.rows.len() as u32 * 134)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let body = root.titled(&self.title, font(20)).map_err(e)?;
        let rows = body.split_evenly((self.rows.len().max(1), 1));
        for (row, area) in self.rows.iter().zip(rows.iter()) {
            let (label_area, imgs) = area.split_horizontally(220);
            for (j, line) in row.label.lines().enumerate() {
                label_area.draw(&Text::new(line.to_string(), (8, 30 + 18 * j as i32), font(14))).map_err(e)?;
            }
            let cells = imgs.split_evenly((1, row.images.len().max(1)));
            for ((img, caption), cell) in row.images.iter().zip(cells.iter()) {
                let px = 3;
                for (k, v) in img.iter().enumerate() {
                    let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                    let (r, c) = ((k / 28) as i32, (k % 28) as i32);
                    cell.draw(&Rectangle::new(
                        [(8 + c * px, 6 + r * px), (8 + (c + 1) * px, 6 + (r + 1) * px)],
                        RGBColor(g, g, g).filled(),
                    ))
                    .map_err(e)?;
                }
                cell.draw(&Text::new(caption.clone(), (8, 6 + 28 * px + 6), font(12))).map_err(e)?;
            }
        }
        Ok(())
    }
}
