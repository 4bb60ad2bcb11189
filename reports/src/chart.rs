//! One chart definition, two renderings: SVG for the page (marked points carry a
//! `<title>`, which browsers show on hover, so the page needs no script) and PNG for
//! `charts/` (RGB through plotters' bitmap backend, encoded with `png`). Text is
//! measured and, in PNGs, drawn with the bundled DejaVu Sans ([`crate::font`]); no
//! system font is read. Same chart, same bytes, in both formats.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Pixels of every chart.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 360;

/// A chart: series over one x axis, on a left and optionally a right y axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File stem in `charts/` and the element id in the page.
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y: Axis,
    /// A second y axis on the right, for series with [`Side::Right`].
    pub y2: Option<Axis>,
    pub series: Vec<Series>,
    /// Points to mark, with the text shown on hover in the page.
    pub markers: Vec<Marker>,
}

/// A y axis: its label and range (from the data when not fixed).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub label: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Axis {
    pub fn new(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            min: None,
            max: None,
        }
    }

    /// Fixed to `min..=max`.
    pub fn fixed(label: impl Into<String>, min: f64, max: f64) -> Axis {
        Axis {
            label: label.into(),
            min: Some(min),
            max: Some(max),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Straight segments between points.
    Line,
    /// Held until the next point (replica counts).
    Step,
    /// Points only.
    Points,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub shape: Shape,
    pub side: Side,
    /// Index into the palette.
    pub color: usize,
}

impl Series {
    pub fn new(
        name: impl Into<String>,
        points: Vec<(f64, f64)>,
        shape: Shape,
        color: usize,
    ) -> Series {
        Series {
            name: name.into(),
            points,
            shape,
            side: Side::Left,
            color,
        }
    }

    pub fn on_right(mut self) -> Series {
        self.side = Side::Right;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub color: usize,
}

/// Colors by index (Okabe–Ito, distinguishable with color-blindness), then repeated.
const PALETTE: [(u8, u8, u8); 8] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (240, 228, 66),
    (0, 0, 0),
];

pub fn color(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The CSS form of [`color`].
pub fn css_color(index: usize) -> String {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart {id}: {message}")]
pub struct ChartError {
    pub id: String,
    pub message: String,
}

impl Chart {
    /// The chart as a standalone SVG document, marked points with hover titles.
    pub fn to_svg(&self) -> Result<String, ChartError> {
        crate::font::register();
        let mut text = String::new();
        let marks = {
            let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
            let marks = self.draw(&root, false)?;
            root.present().map_err(|e| self.error(e))?;
            marks
        };
        let mut overlay = String::from("<g class=\"markers\">");
        for (marker, (x, y)) in self.markers.iter().zip(marks) {
            overlay.push_str(&format!(
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{}\" stroke=\"#ffffff\" stroke-width=\"1\"><title>{}</title></circle>",
                css_color(marker.color),
                escape(&marker.text)
            ));
        }
        overlay.push_str("</g>\n</svg>");
        match text.rfind("</svg>") {
            Some(end) => text.replace_range(end.., &overlay),
            None => return Err(self.error("the SVG backend wrote no closing tag")),
        }
        Ok(text)
    }

    /// The chart as PNG bytes (markers drawn as dots).
    pub fn to_png(&self) -> Result<Vec<u8>, ChartError> {
        crate::font::register();
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root, true)?;
            root.present().map_err(|e| self.error(e))?;
        }
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| self.error(e))?;
        writer.write_image_data(&rgb).map_err(|e| self.error(e))?;
        writer.finish().map_err(|e| self.error(e))?;
        Ok(bytes)
    }

    fn error(&self, error: impl std::fmt::Display) -> ChartError {
        ChartError {
            id: self.id.clone(),
            message: error.to_string(),
        }
    }

    /// Draws on `root`; returns the backend pixel of each marker.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        dots: bool,
    ) -> Result<Vec<(i32, i32)>, ChartError> {
        root.fill(&WHITE).map_err(|e| self.error(e))?;
        let (x_min, x_max) = padded(self.x_extent(), None, None);
        let (y_min, y_max) = padded(self.y_extent(Side::Left), self.y.min, self.y.max);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .right_y_label_area_size(if self.y2.is_some() { 64 } else { 8 })
            .build_cartesian_2d(x_min..x_max, y_min..y_max)
            .map_err(|e| self.error(e))?
            .set_secondary_coord(x_min..x_max, {
                let axis = self.y2.as_ref();
                let (lo, hi) = padded(
                    self.y_extent(Side::Right),
                    axis.and_then(|a| a.min),
                    axis.and_then(|a| a.max),
                );
                lo..hi
            });
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y.label.as_str())
            .x_label_formatter(&|v| number(*v))
            .y_label_formatter(&|v| number(*v))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(|e| self.error(e))?;
        if let Some(axis) = &self.y2 {
            chart
                .configure_secondary_axes()
                .y_desc(axis.label.as_str())
                .y_label_formatter(&|v| number(*v))
                .label_style(("sans-serif", 13))
                .draw()
                .map_err(|e| self.error(e))?;
        }
        for series in &self.series {
            let style = ShapeStyle::from(&color(series.color)).stroke_width(2);
            let points = match series.shape {
                Shape::Step => steps(&series.points),
                Shape::Line | Shape::Points => series.points.clone(),
            };
            let legend_color = color(series.color);
            let legend = move |(x, y): (i32, i32)| {
                PathElement::new(vec![(x, y), (x + 18, y)], legend_color.stroke_width(3))
            };
            let name = match series.side {
                Side::Left => series.name.clone(),
                Side::Right => format!("{} (right axis)", series.name),
            };
            match (series.shape, series.side) {
                (Shape::Points, Side::Left) => chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 5, style.filled())))
                    .map_err(|e| self.error(e))?
                    .label(name)
                    .legend(legend),
                (Shape::Points, Side::Right) => chart
                    .draw_secondary_series(
                        points.iter().map(|&p| Circle::new(p, 5, style.filled())),
                    )
                    .map_err(|e| self.error(e))?
                    .label(name)
                    .legend(legend),
                (_, Side::Left) => chart
                    .draw_series(LineSeries::new(points, style))
                    .map_err(|e| self.error(e))?
                    .label(name)
                    .legend(legend),
                (_, Side::Right) => chart
                    .draw_secondary_series(LineSeries::new(points, style))
                    .map_err(|e| self.error(e))?
                    .label(name)
                    .legend(legend),
            };
        }
        if !self.series.is_empty() {
            // Scatter charts (GPU-hours against attainment) crowd the top left and a poor
            // run sits low; the middle right is the emptiest place.
            let scatter = self.series.iter().any(|s| s.shape == Shape::Points);
            chart
                .configure_series_labels()
                .position(if scatter {
                    SeriesLabelPosition::MiddleRight
                } else {
                    SeriesLabelPosition::UpperLeft
                })
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font(("sans-serif", 13))
                .draw()
                .map_err(|e| self.error(e))?;
        }
        if dots {
            chart
                .draw_series(self.markers.iter().map(|m| {
                    Circle::new((m.x, m.y), 3, ShapeStyle::from(&color(m.color)).filled())
                }))
                .map_err(|e| self.error(e))?;
        }
        Ok(self
            .markers
            .iter()
            .map(|m| chart.backend_coord(&(m.x, m.y)))
            .collect())
    }

    fn x_extent(&self) -> Option<(f64, f64)> {
        extent(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0)),
        )
    }

    fn y_extent(&self, side: Side) -> Option<(f64, f64)> {
        extent(
            self.series
                .iter()
                .filter(|s| s.side == side)
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .chain(
                    self.markers
                        .iter()
                        .filter(|_| side == Side::Left)
                        .map(|m| m.y),
                ),
        )
    }
}

fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The range to draw: fixed ends as given, data ends with 5% room above, and never
/// empty.
fn padded(data: Option<(f64, f64)>, min: Option<f64>, max: Option<f64>) -> (f64, f64) {
    let (lo, hi) = data.unwrap_or((0.0, 1.0));
    let lo = min.unwrap_or(lo.min(0.0));
    let hi = max.unwrap_or(hi + (hi - lo).abs() * 0.05);
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// Points held until the next one.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for pair in points.windows(2) {
        out.push(pair[0]);
        out.push((pair[1].0, pair[0].1));
    }
    out.extend(points.last());
    out
}

/// Axis numbers: short, no trailing zeros.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    let text = if magnitude >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if magnitude >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if magnitude >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    };
    if text.contains('.') && !text.ends_with('M') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Text for XML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Chart {
        Chart {
            id: "sample".into(),
            title: "Replicas".into(),
            x_label: "minutes".into(),
            y: Axis::new("replicas"),
            y2: Some(Axis::fixed("KV use %", 0.0, 100.0)),
            series: vec![
                Series::new(
                    "desired",
                    vec![(0.0, 1.0), (5.0, 3.0), (10.0, 2.0)],
                    Shape::Step,
                    0,
                ),
                Series::new("kv", vec![(0.0, 10.0), (10.0, 80.0)], Shape::Line, 1).on_right(),
            ],
            markers: vec![Marker {
                x: 5.0,
                y: 3.0,
                text: "HPA 1 → 3 <scale up> & more".into(),
                color: 2,
            }],
        }
    }

    #[test]
    fn svg_carries_hover_titles_and_is_deterministic() {
        let svg = sample().to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<title>HPA 1 → 3 &lt;scale up&gt; &amp; more</title>"));
        assert!(svg.contains("Replicas"));
        assert_eq!(svg, sample().to_svg().unwrap());
    }

    #[test]
    fn png_is_a_non_blank_image_of_the_chart_size() {
        let png = sample().to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(png, sample().to_png().unwrap());
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let colored = pixels
            .chunks(3)
            .filter(|p| p[0] != p[1] || p[1] != p[2])
            .count();
        assert!(colored > 500, "only {colored} colored pixels");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(1500.0), "1500");
        assert_eq!(number(25000.0), "25k");
        assert_eq!(number(3.0e6), "3.0M");
    }

    #[test]
    fn steps_hold_each_value() {
        assert_eq!(
            steps(&[(0.0, 1.0), (2.0, 3.0), (4.0, 2.0)]),
            [(0.0, 1.0), (2.0, 1.0), (2.0, 3.0), (4.0, 3.0), (4.0, 2.0)]
        );
    }
}
