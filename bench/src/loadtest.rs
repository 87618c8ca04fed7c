//! `photoscale loadtest`, run by the bench. Mostly as the open loop
//! (`--rate R`): requests sent on a schedule whatever the server does,
//! latency counted from when each was due. It shows the latency a server
//! gives at a load it can carry, which a closed loop (wrk) hides behind its
//! own back-pressure. Once as a closed loop, to check that it keeps up with
//! wrk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use tokio::process::Command;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadtestResult {
    /// The rate asked for (open loop), or 0.
    pub rate: u32,
    pub achieved_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

#[derive(Deserialize)]
struct Summary {
    overall: Overall,
}

#[derive(Deserialize)]
struct Overall {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy)]
pub enum Arrivals {
    Rate(u32),
    Concurrency(u32),
}

/// What one run asks for.
pub struct Loadtest<'a> {
    pub photoscale: &'a Path,
    pub url: &'a str,
    /// GET this path on every request (the whole case), e.g. "/healthz";
    /// None: the load test's own feed requests (`--mix feed=100`).
    pub path: Option<&'a str>,
    pub log_in: bool,
    pub arrivals: Arrivals,
    pub duration: Duration,
    /// Where the load test writes its files.
    pub out: PathBuf,
}

impl Loadtest<'_> {
    pub async fn run(&self) -> anyhow::Result<LoadtestResult> {
        // An empty state directory: the target is a URL, not a stack.
        let no_stack = self.out.join("no-stack");
        std::fs::create_dir_all(&no_stack)?;
        let mut command = Command::new(self.photoscale);
        command
            .arg("loadtest")
            .arg("--url")
            .arg(self.url)
            .arg("--duration")
            .arg(format!("{}s", self.duration.as_secs().max(1)))
            .arg("--out")
            .arg(&self.out)
            .arg("--state-dir")
            .arg(&no_stack)
            .env_remove("RUST_LOG");
        match self.path {
            Some(path) => command.arg("--path").arg(path),
            None => command.arg("--mix").arg("feed=100"),
        };
        if self.log_in {
            command.arg("--log-in");
        }
        let rate = match self.arrivals {
            Arrivals::Rate(rate) => {
                command.arg("--rate").arg(rate.max(1).to_string());
                rate
            }
            Arrivals::Concurrency(n) => {
                command.arg("--concurrency").arg(n.to_string());
                0
            }
        };
        let output = command
            .output()
            .await
            .context("running photoscale loadtest")?;
        if !output.status.success() {
            bail!(
                "photoscale loadtest failed on {}{}: {}{}",
                self.url,
                self.path.unwrap_or("/"),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let file = self.out.join("summary.json");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let summary: Summary =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        Ok(LoadtestResult {
            rate,
            achieved_per_second: summary.overall.per_second,
            p50_ms: summary.overall.p50_ms,
            p99_ms: summary.overall.p99_ms,
            errors: summary.overall.errors.values().sum(),
        })
    }
}
