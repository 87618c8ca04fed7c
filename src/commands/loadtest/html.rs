//! `report.html`: one self-contained page (inline SVG and CSS, no script,
//! nothing fetched) that a person opens from disk: the run, a table per
//! request kind, the errors, the events, and charts of requests by kind,
//! latency percentiles (all requests and p99 by kind), errors, instances in
//! service and each instance's share, with the events marked on every chart.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::charts::{self, LineChart, Series};
use super::report::{Marker, Report};
use super::stats::Summary;

pub fn page(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>photoscale loadtest: {url}</title>\n<style>{STYLE}</style></head><body>\n\
         <h1>photoscale loadtest</h1>\n<p>{url}: {mode}, {secs:.0} s, {n} requests ({rate:.1} a second).</p>\n",
        url = escape(&report.url),
        mode = escape(&report.mode),
        secs = report.duration_s,
        n = report.overall.requests,
        rate = report.overall.per_second,
    );
    kinds_table(&mut out, report);
    errors_and_events(&mut out, report);
    for chart in charts(report) {
        out.push_str("<figure>");
        out.push_str(&chart);
        out.push_str("</figure>\n");
    }
    out.push_str("</body></html>\n");
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:960px;margin:1em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}\
th:first-child,td:first-child{text-align:left}figure{margin:1.5em 0}ol{padding-left:1.5em}";

fn kinds_table(out: &mut String, report: &Report) {
    out.push_str(
        "<h2>By request kind</h2>\n<table><thead><tr><th>kind</th><th>requests</th><th>per second</th>\
         <th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n",
    );
    let seconds = report.duration_s.max(f64::EPSILON);
    for (kind, k) in &report.overall.by_kind {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            escape(kind),
            k.requests,
            k.requests as f64 / seconds,
            k.p50_ms,
            k.p90_ms,
            k.p99_ms,
            k.max_ms
        );
    }
    let o = &report.overall;
    let _ = writeln!(
        out,
        "<tr><th>all</th><th>{}</th><th>{:.1}</th><th>{:.1}</th><th>{:.1}</th><th>{:.1}</th><th>{:.1}</th></tr>",
        o.requests, o.per_second, o.p50_ms, o.p90_ms, o.p99_ms, o.max_ms
    );
    out.push_str("</tbody></table>\n");
}

fn errors_and_events(out: &mut String, report: &Report) {
    out.push_str("<h2>Errors</h2>\n");
    if report.overall.errors.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul>");
        for (error, n) in &report.overall.errors {
            let _ = write!(out, "<li>{}: {n}</li>", escape(error));
        }
        out.push_str("</ul>\n");
    }
    if !report.markers.is_empty() {
        out.push_str(
            "<h2>Events</h2>\n<p>Those in bold change something, and are drawn on the charts under their number.</p>\n<ol>",
        );
        for marker in &report.markers {
            let text = escape(&marker.text);
            let text = if is_drawn(marker) {
                format!("<b>{text}</b>")
            } else {
                text
            };
            let _ = write!(out, "<li>at {:.1} s: {text}</li>", marker.at_s);
        }
        out.push_str("</ol>\n");
    }
}

/// Events that change the run (a flip, an alarm going off, a change of
/// capacity, an instance in or out), not the autoscaler's every look.
fn is_drawn(marker: &Marker) -> bool {
    let text = &marker.text;
    !(text.contains("not run") || text.contains("-> OK") || text.contains("INSUFFICIENT_DATA ->"))
}

pub fn charts(report: &Report) -> Vec<String> {
    let kinds: Vec<&String> = report.overall.by_kind.keys().collect();
    let per_kind = |figure: fn(&super::stats::KindSummary) -> f64| -> Vec<Series> {
        kinds
            .iter()
            .map(|kind| Series {
                label: (*kind).clone(),
                points: points(&report.seconds, |s| s.by_kind.get(*kind).map(figure)),
            })
            .collect()
    };
    let overall = |label: &str, figure: fn(&Summary) -> f64| Series {
        label: label.to_owned(),
        points: points(&report.seconds, |s| (s.requests > 0).then(|| figure(s))),
    };
    let instances: BTreeSet<&String> = report
        .seconds
        .iter()
        .flat_map(|s| s.by_instance.keys())
        .collect();
    let shares = instances
        .iter()
        .map(|id| Series {
            label: (*id).clone(),
            points: points(&report.seconds, |s| {
                let total: u64 = s.by_instance.values().sum();
                (total > 0).then(|| {
                    s.by_instance.get(*id).copied().unwrap_or(0) as f64 * 100.0 / total as f64
                })
            }),
        })
        .collect();
    let in_service = Series {
        label: "instances".into(),
        points: report
            .instances
            .iter()
            .enumerate()
            .filter_map(|(second, n)| n.map(|n| (second as f64 + 0.5, f64::from(n))))
            .collect(),
    };
    let drawn: Vec<(usize, f64)> = report
        .markers
        .iter()
        .enumerate()
        .filter(|(_, m)| is_drawn(m))
        .map(|(n, m)| (n + 1, m.at_s))
        .collect();
    let chart = |title: &str, y_label: &str, series: Vec<Series>| {
        charts::svg(&LineChart {
            title,
            y_label,
            seconds: report.seconds.len() as f64,
            series,
            markers: &drawn,
        })
    };
    vec![
        chart(
            "Requests per second, by kind",
            "requests",
            per_kind(|k| k.requests as f64),
        ),
        chart(
            "Latency of all requests, per second",
            "ms",
            vec![
                overall("p50", |s| s.p50_ms),
                overall("p90", |s| s.p90_ms),
                overall("p99", |s| s.p99_ms),
            ],
        ),
        chart(
            "p99 latency per second, by kind",
            "ms",
            per_kind(|k| k.p99_ms),
        ),
        chart(
            "Errors per second",
            "errors",
            vec![Series {
                label: "errors".into(),
                points: points(&report.seconds, |s| Some(s.error_count() as f64)),
            }],
        ),
        chart("Instances in service", "instances", vec![in_service]),
        chart("Share of requests per instance", "% of requests", shares),
    ]
}

/// (middle of the second, value) for each second that has a value.
fn points(seconds: &[Summary], value: impl Fn(&Summary) -> Option<f64>) -> Vec<(f64, f64)> {
    seconds
        .iter()
        .enumerate()
        .filter_map(|(n, s)| value(s).map(|v| (n as f64 + 0.5, v)))
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::mix::Kind;
    use super::super::stats::{Sample, Stats};
    use super::*;

    /// A recorded run: three seconds of feeds, photos and a few slow uploads
    /// on two instances, one error and one event.
    fn recorded() -> (Vec<Sample>, Report) {
        let mut samples = Vec::new();
        for n in 0..600u64 {
            let (kind, latency_us) = match n % 10 {
                0..=6 => (Kind::Feed, 1_000 + n * 7 % 3_000),
                7 | 8 => (Kind::Photo, 500 + n * 13 % 900),
                _ => (Kind::Upload, 40_000 + n * 101 % 60_000),
            };
            samples.push(Sample {
                finished: Duration::from_millis(n * 5),
                latency: Duration::from_micros(latency_us),
                kind,
                error: (n == 599).then(|| "http 503".to_owned()),
                instance: Some(if n % 2 == 0 { "i-1" } else { "i-2" }.to_owned()),
            });
        }
        let mut stats = Stats::new();
        for sample in &samples {
            stats.record(sample);
        }
        let report = Report {
            url: "http://127.0.0.1:8080".into(),
            mode: "4 clients (closed loop)".into(),
            duration_s: 3.0,
            overall: stats.overall(Duration::from_secs(3)),
            requests_by_kind: Default::default(),
            seconds: stats.per_second(),
            instances: vec![Some(2), Some(2), Some(3)],
            markers: vec![
                Marker {
                    at_s: 1.5,
                    text: "latency of <all> set to 2s".into(),
                },
                Marker {
                    at_s: 2.0,
                    text: "policy -1 (alarm latency-low): not run, cooling down".into(),
                },
            ],
        };
        (samples, report)
    }

    /// The exact percentile of raw samples, nearest rank.
    fn percentile(latencies: &mut [f64], q: f64) -> f64 {
        latencies.sort_by(f64::total_cmp);
        let rank = ((q * latencies.len() as f64).ceil() as usize).max(1);
        latencies[rank - 1]
    }

    #[test]
    fn the_page_gives_each_kinds_figures_as_the_raw_samples_do() {
        let (samples, report) = recorded();
        let html = page(&report);
        for kind in [Kind::Feed, Kind::Photo, Kind::Upload] {
            let mut ms: Vec<f64> = samples
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.latency.as_secs_f64() * 1000.0)
                .collect();
            let count = ms.len();
            let row_start = html
                .find(&format!("<tr><td>{}</td>", kind.name()))
                .unwrap_or_else(|| panic!("a row for {}", kind.name()));
            let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
            let cells: Vec<f64> = row
                .split("<td>")
                .skip(2)
                .map(|c| c.trim_end_matches("</td>").parse().unwrap())
                .collect();
            assert_eq!(cells[0] as usize, count, "{row}");
            assert!((cells[1] - count as f64 / 3.0).abs() < 0.1, "{row}");
            for (cell, q) in [(cells[2], 0.50), (cells[3], 0.90), (cells[4], 0.99)] {
                let exact = percentile(&mut ms, q);
                // Three significant digits, then printed to 0.1 ms.
                assert!(
                    (cell - exact).abs() <= exact * 0.001 + 0.05,
                    "{} p{}: {cell} against {exact}",
                    kind.name(),
                    q * 100.0
                );
            }
            let max = ms.iter().copied().fold(0.0, f64::max);
            assert!((cells[5] - max).abs() <= max * 0.001 + 0.05, "{row}");
        }
    }

    #[test]
    fn the_page_is_self_contained_with_every_chart_and_the_events() {
        let (_, report) = recorded();
        let html = page(&report);
        assert!(html.starts_with("<!doctype html>"));
        assert_eq!(html.matches("<svg").count(), 6, "six charts");
        for title in [
            "Requests per second, by kind",
            "Latency of all requests, per second",
            "p99 latency per second, by kind",
            "Errors per second",
            "Instances in service",
            "Share of requests per instance",
        ] {
            assert!(html.contains(title), "{title}");
        }
        assert!(html.contains("http 503: 1"));
        assert!(
            html.contains("<li>at 1.5 s: <b>latency of &lt;all&gt; set to 2s</b></li>"),
            "escaped, and in bold: it is drawn"
        );
        assert!(
            html.contains("<li>at 2.0 s: policy -1"),
            "listed, not drawn"
        );
        for outside in ["<script", "src=\"http", "href=\"http", "@import"] {
            assert!(!html.contains(outside), "nothing fetched: {outside}");
        }
    }
}
