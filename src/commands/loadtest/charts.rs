//! Line charts as SVG, drawn with plotters: real axes with ticks, a legend,
//! and the run's events (latency flips, scaling) as numbered vertical lines
//! that the page lists below. One function, so that every chart of the load
//! test's report (and anything else that reports a run) looks the same.

use plotters::prelude::*;

/// One line of a chart: its points (seconds, value) and its legend.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

pub struct LineChart<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    /// The run's length: the x axis goes from 0 to it.
    pub seconds: f64,
    pub series: Vec<Series>,
    /// Events to draw: their number in the page's list, and when.
    pub markers: &'a [(usize, f64)],
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 300;

/// Colours that stay apart in print and for most colour blindness (Okabe-Ito).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// The chart as an `<svg>` element.
pub fn svg(chart: &LineChart) -> String {
    let mut out = String::new();
    {
        let backend = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT));
        // Drawing into a string cannot fail for I/O; a drawing error would
        // be a bug, and an empty chart is better than no report.
        if let Err(e) = draw(backend, chart) {
            tracing::warn!(error = %e, chart = chart.title, "a chart could not be drawn");
        }
    }
    out
}

fn draw(backend: SVGBackend, chart: &LineChart) -> Result<(), Box<dyn std::error::Error>> {
    let area = backend.into_drawing_area();
    area.fill(&WHITE)?;
    let y_max = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    // Headroom above the highest point, and never a zero-height axis.
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
    let x_max = chart.seconds.max(1.0);
    let mut plot = ChartBuilder::on(&area)
        .caption(chart.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    plot.configure_mesh()
        .x_desc("seconds into the run")
        .y_desc(chart.y_label)
        .x_labels(12)
        .y_labels(6)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for &(number, at) in chart.markers {
        let line = [(at, 0.0), (at, y_max)];
        plot.draw_series(LineSeries::new(line, BLACK.mix(0.35)))?;
        plot.draw_series(std::iter::once(Text::new(
            number.to_string(),
            (at, y_max * 0.97),
            ("sans-serif", 12),
        )))?;
    }
    for (series, color) in chart.series.iter().zip(PALETTE.iter().cycle()) {
        let color = *color;
        plot.draw_series(LineSeries::new(
            series.points.iter().copied(),
            color.stroke_width(2),
        ))?
        .label(series.label.clone())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    if !chart.series.is_empty() {
        plot.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    area.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_axes_ticks_a_legend_and_numbered_markers() {
        let markers = [(1, 5.0)];
        let text = svg(&LineChart {
            title: "Requests per second",
            y_label: "requests",
            seconds: 10.0,
            series: vec![Series {
                label: "feed".into(),
                points: (0..10)
                    .map(|s| (s as f64 + 0.5, 100.0 + s as f64))
                    .collect(),
            }],
            markers: &markers,
        });
        assert!(text.starts_with("<svg"), "{text}");
        assert!(text.contains("Requests per second"));
        let label = |t: &str| text.contains(&format!(">\n{t}\n</text>"));
        assert!(label("feed"), "a legend");
        assert!(text.contains("seconds into the run"), "an x axis title");
        // Tick labels on both axes: several numbers, not only the maximum.
        let numbers = text.matches("</text>").count();
        assert!(numbers > 10, "{numbers} labels");
        assert!(label("1"), "the marker's number");
        assert!(
            label("0.0") && label("5.0"),
            "ticks on the x axis, not only its end"
        );
    }

    #[test]
    fn an_empty_chart_still_draws() {
        let text = svg(&LineChart {
            title: "Errors per second",
            y_label: "errors",
            seconds: 0.0,
            series: vec![],
            markers: &[],
        });
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    }
}
