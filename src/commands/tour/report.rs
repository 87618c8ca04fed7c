//! `tour --auto`'s report: `summary.json` (each step, what it showed and
//! whether it behaved as expected) and `index.html`, which shows the same
//! with the level-3 load's charts, drawn by the load test report's code.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::outcome::Outcome;
use crate::commands::loadtest::Report;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub all_as_expected: bool,
    /// Seconds from the start of the tour to its end (the build excluded).
    pub took_s: f64,
    /// Seconds from the start of the tour until the level-3 scale-out.
    pub scale_out_after_s: Option<f64>,
    pub steps: Vec<Outcome>,
    /// Why the tour stopped early, if it did.
    pub stopped: Option<String>,
}

pub fn write(dir: &Path, summary: &Summary, load: Option<&Report>) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join("summary.json");
    std::fs::write(&json, serde_json::to_string_pretty(summary)?)?;
    let html = dir.join("index.html");
    std::fs::write(&html, page(summary, load))?;
    Ok(vec![json, html])
}

fn page(summary: &Summary, load: Option<&Report>) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>photoscale tour</title>\
         <style>body{font-family:sans-serif;max-width:960px;margin:1em auto;padding:0 1em;color:#222}\
         .ok{color:#0a6b3d}.bad{color:#a40000}figure{margin:1.5em 0}</style></head><body>\n<h1>photoscale tour</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p>{} in {:.0} s.</p>",
        if summary.all_as_expected {
            "Every step behaved as expected"
        } else {
            "Some steps did not behave as expected"
        },
        summary.took_s
    );
    if let Some(why) = &summary.stopped {
        let _ = writeln!(
            out,
            "<p class=\"bad\">The tour stopped early: {}</p>",
            escape(why)
        );
    }
    for step in &summary.steps {
        let (class, verdict) = if step.as_expected {
            ("ok", "as expected")
        } else {
            ("bad", "not as expected")
        };
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<p class=\"{class}\">{verdict}</p>\n<ul>",
            escape(&step.step)
        );
        for line in &step.shown {
            let _ = writeln!(out, "<li>{}</li>", escape(line));
        }
        out.push_str("</ul>\n");
        if step.step.starts_with("level 3") {
            if let Some(report) = load {
                out.push_str("<p>Events of the load, numbered as on the charts:</p>\n<ol>");
                for marker in &report.markers {
                    let _ = write!(
                        out,
                        "<li>at {:.1} s: {}</li>",
                        marker.at_s,
                        escape(&marker.text)
                    );
                }
                out.push_str("</ol>\n");
                for chart in crate::commands::loadtest::charts_of(report) {
                    let _ = writeln!(out, "<figure>{chart}</figure>");
                }
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
