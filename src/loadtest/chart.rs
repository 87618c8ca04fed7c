//! The load test's chart as a standalone SVG: p50 and p99 latency per
//! second on top, the number of running instances below, and each latency
//! flip or scaling event as a labelled vertical line through both.

use std::fmt::Write;

use super::report::Report;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const LATENCY_HEIGHT: f64 = 260.0;
const GAP: f64 = 40.0;
const COUNT_HEIGHT: f64 = 120.0;
const BOTTOM: f64 = 40.0;

pub fn svg(report: &Report) -> String {
    let seconds = report.seconds.len().max(1) as f64;
    let height = TOP + LATENCY_HEIGHT + GAP + COUNT_HEIGHT + BOTTOM;
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |second: f64| LEFT + second / seconds * plot_width;
    let max_ms = report
        .seconds
        .iter()
        .map(|s| s.p99_ms)
        .fold(1.0_f64, f64::max)
        * 1.1;
    let y_latency = |ms: f64| TOP + LATENCY_HEIGHT - ms / max_ms * LATENCY_HEIGHT;
    let max_count = report
        .instances
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64
        + 1.0;
    let count_top = TOP + LATENCY_HEIGHT + GAP;
    let y_count = |n: f64| count_top + COUNT_HEIGHT - n / max_count * COUNT_HEIGHT;

    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<title>photoscale loadtest: {url}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="18" font-size="14">Latency (ms) and instances over {secs:.0} s: {url}</text>
"#,
        url = escape(&report.url),
        secs = report.duration_s
    );
    axis(&mut out, TOP, LATENCY_HEIGHT, &format!("{:.0} ms", max_ms));
    axis(
        &mut out,
        count_top,
        COUNT_HEIGHT,
        &format!("{:.0} inst.", max_count),
    );
    let line = |values: Vec<Option<(f64, f64)>>, color: &str, label: &str, out: &mut String| {
        let points: Vec<String> = values
            .into_iter()
            .flatten()
            .map(|(px, py)| format!("{px:.1},{py:.1}"))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"><title>{label}</title></polyline>"#,
            points.join(" ")
        );
    };
    let per_second = |f: &dyn Fn(usize) -> Option<f64>, y: &dyn Fn(f64) -> f64| {
        (0..report.seconds.len())
            .map(|i| f(i).map(|v| (x(i as f64 + 0.5), y(v))))
            .collect::<Vec<_>>()
    };
    let with_requests = |i: usize| report.seconds[i].requests > 0;
    line(
        per_second(
            &|i| with_requests(i).then(|| report.seconds[i].p50_ms),
            &y_latency,
        ),
        "#1f77b4",
        "p50",
        &mut out,
    );
    line(
        per_second(
            &|i| with_requests(i).then(|| report.seconds[i].p99_ms),
            &y_latency,
        ),
        "#d62728",
        "p99",
        &mut out,
    );
    line(
        per_second(
            &|i| report.instances.get(i).copied().flatten().map(f64::from),
            &y_count,
        ),
        "#2ca02c",
        "instances",
        &mut out,
    );
    let legend_y = TOP + 14.0;
    for (i, (color, label)) in [
        ("#1f77b4", "p50"),
        ("#d62728", "p99"),
        ("#2ca02c", "instances"),
    ]
    .iter()
    .enumerate()
    {
        let lx = WIDTH - RIGHT - 240.0 + i as f64 * 80.0;
        let _ = writeln!(
            out,
            r#"<rect x="{lx}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{legend_y}">{label}</text>"#,
            legend_y - 4.0,
            lx + 16.0
        );
    }
    // Only what changes the picture: flips, alarms firing, capacity changes.
    let notable = report.markers.iter().filter(|m| is_notable(&m.text));
    for (i, marker) in notable.enumerate() {
        let mx = x(marker.at_s);
        let ty = TOP + 28.0 + (i % 8) as f64 * 14.0;
        let _ = writeln!(
            out,
            r##"<line x1="{mx:.1}" y1="{TOP}" x2="{mx:.1}" y2="{}" stroke="#888" stroke-dasharray="4 3"><title>{text}</title></line><text x="{:.1}" y="{ty:.1}" fill="#555">{short}</text>"##,
            count_top + COUNT_HEIGHT,
            mx + 3.0,
            text = escape(&marker.text),
            short = escape(&shorten(&marker.text, 48)),
        );
    }
    let step = if seconds > 120.0 { 30 } else { 10 };
    for tick in (0..=seconds as usize).step_by(step) {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{tick}</text>"#,
            x(tick as f64),
            count_top + COUNT_HEIGHT + 14.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">seconds</text>"#,
        LEFT + plot_width / 2.0,
        height - 8.0
    );
    out.push_str("</svg>\n");
    out
}

fn is_notable(text: &str) -> bool {
    !text.contains("not run") && !text.contains("-> OK") && !text.contains("-> INSUFFICIENT_DATA")
}

fn axis(out: &mut String, top: f64, height: f64, max_label: &str) {
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{}" height="{height}" fill="none" stroke="#ccc"/><text x="{}" y="{}" text-anchor="end">{max_label}</text><text x="{}" y="{}" text-anchor="end">0</text>"##,
        WIDTH - LEFT - RIGHT,
        LEFT - 4.0,
        top + 10.0,
        LEFT - 4.0,
        top + height
    );
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
