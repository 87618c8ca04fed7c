//! The load test's results: a text table per second and overall, and files a
//! person or a program can open: `series.csv`, `summary.json` and
//! `report.html` (a page of charts, see html.rs).

use std::fmt::Write;

use serde::Serialize;

use super::stats::Summary;

/// Something that happened during the run, at `at_s` seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub at_s: f64,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub mode: String,
    pub duration_s: f64,
    pub overall: Summary,
    pub requests_by_kind: std::collections::BTreeMap<String, u64>,
    pub seconds: Vec<Summary>,
    /// Instances running in each second (from the stack), when known.
    pub instances: Vec<Option<u32>>,
    /// Latency flips and scaling events.
    pub markers: Vec<Marker>,
}

impl Report {
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "photoscale loadtest: {}, {:.0} s, {}\n  {:>4} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>5}  by instance\n",
            self.url, self.duration_s, self.mode, "sec", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "inst"
        );
        for (second, s) in self.seconds.iter().enumerate() {
            let instances = self
                .instances
                .get(second)
                .copied()
                .flatten()
                .map_or("-".into(), |n| n.to_string());
            let _ = writeln!(
                out,
                "  {second:>4} {:>7.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>6} {instances:>5}  {}",
                s.per_second,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.error_count(),
                shares(&s.by_instance)
            );
        }
        let o = &self.overall;
        let _ = writeln!(
            out,
            "overall: {} requests, {:.1} req/s, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            o.requests, o.per_second, o.p50_ms, o.p90_ms, o.p99_ms, o.max_ms
        );
        for (kind, k) in &o.by_kind {
            let _ = writeln!(
                out,
                "  {kind:<7} {} requests, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                k.requests, k.p50_ms, k.p90_ms, k.p99_ms, k.max_ms
            );
        }
        let errors: Vec<String> = o.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let _ = writeln!(
            out,
            "errors: {}",
            if errors.is_empty() {
                "none".into()
            } else {
                errors.join(", ")
            }
        );
        let _ = writeln!(out, "served by: {}", shares(&o.by_instance));
        for marker in &self.markers {
            let _ = writeln!(out, "  at {:>6.1} s  {}", marker.at_s, marker.text);
        }
        out
    }

    /// One CSV row per second.
    pub fn csv(&self) -> String {
        let mut out = "second,requests,p50_ms,p90_ms,p99_ms,max_ms,errors,instances\n".to_owned();
        for (second, s) in self.seconds.iter().enumerate() {
            let instances = self.instances.get(second).copied().flatten();
            let _ = writeln!(
                out,
                "{second},{},{:.1},{:.1},{:.1},{:.1},{},{}",
                s.requests,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.error_count(),
                instances.map_or(String::new(), |n| n.to_string())
            );
        }
        out
    }
}

/// "i-1 49.8%, i-2 50.2%"
fn shares(by_instance: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = by_instance.values().sum();
    if total == 0 {
        return "-".into();
    }
    by_instance
        .iter()
        .map(|(id, n)| format!("{id} {:.1}%", *n as f64 * 100.0 / total as f64))
        .collect::<Vec<_>>()
        .join(", ")
}
