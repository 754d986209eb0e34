//! Coverage charts: share up to date per group (county, ZIP, provider, school), drawn with
//! `plotters` as SVG, and rasterized to PNG by `resvg` with the embedded DejaVu font (so the
//! PNG looks the same on a server without fonts).

use plotters::prelude::*;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("rasterizing the chart: {0}")]
    Raster(String),
}

/// One bar: a group's label, its share up to date (0 to 1) and how many persons it counts.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub share: f64,
    pub total: i64,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 500;

/// The chart as SVG text.
pub fn coverage_svg(title: &str, bars: &[Bar]) -> Result<String, ChartError> {
    let draw = |e: &dyn std::fmt::Display| ChartError::Draw(e.to_string());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let n = bars.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("DejaVu Sans", 22))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(56)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..100.0)
            .map_err(|e| draw(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc("% up to date")
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => bars
                    .get(*i)
                    .map(|b| format!("{} (n={})", b.label, b.total))
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .label_style(("DejaVu Sans", 13))
            .draw()
            .map_err(|e| draw(&e))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let top = (b.share * 100.0).clamp(0.0, 100.0);
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), top),
                    ],
                    RGBColor(31, 119, 180).filled(),
                );
                bar.set_margin(0, 0, 12, 12);
                bar
            }))
            .map_err(|e| draw(&e))?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let top = (b.share * 100.0).clamp(0.0, 100.0);
                Text::new(
                    format!("{:.1}%", b.share * 100.0),
                    (SegmentValue::CenterOf(i), (top + 2.0).min(97.0)),
                    ("DejaVu Sans", 14).into_font(),
                )
            }))
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    Ok(svg)
}

/// The SVG rasterized to PNG.
pub fn coverage_png(svg: &str) -> Result<Vec<u8>, ChartError> {
    let raster = |e: &dyn std::fmt::Display| ChartError::Raster(e.to_string());
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_font_data(FONT.to_vec());
    options.font_family = "DejaVu Sans".into();
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| raster(&e))?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ChartError::Raster("empty image".into()))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| raster(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_each_group_and_rasterizes() {
        let bars = [
            Bar {
                label: "HENNEPIN".into(),
                share: 0.8,
                total: 10,
            },
            Bar {
                label: "RAMSEY".into(),
                share: 0.25,
                total: 4,
            },
        ];
        let svg = coverage_svg("Coverage", &bars).expect("svg");
        assert!(
            svg.contains("HENNEPIN (n=10)") && svg.contains("80.0%") && svg.contains("25.0%"),
            "{svg}"
        );
        let png = coverage_png(&svg).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Some pixels are the bars' blue.
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).expect("decode");
        assert!(pixmap
            .pixels()
            .iter()
            .any(|p| p.red() == 31 && p.green() == 119 && p.blue() == 180));
    }
}
