//! `photoscale loadtest`: drives a site (one instance or a whole stack) with
//! a mix of requests, closed-loop (`--concurrency C` clients back to back)
//! or open-loop (`--rate R` arrivals per second, latency measured from when
//! each request was due, so a slow server cannot hide its queue), flips
//! latency on a schedule, and reports what happened second by second.

mod charts;
pub mod command;
mod connection;
mod drivers;
pub mod flips;
mod html;
pub mod mix;
mod progress;
mod report;
mod report_files;
mod stats;
mod traffic;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

pub use report::{Marker, Report};

/// The load test report's charts of `report`, as SVG elements, for other
/// reports of a run (the tour's).
pub fn charts_of(report: &Report) -> Vec<String> {
    html::charts(report)
}
use stats::Stats;
use traffic::Site;

/// Sessions (cookie jars) the open loop's requests take turns with.
const OPEN_LOOP_SESSIONS: usize = 16;

/// How requests arrive.
#[derive(Debug, Clone, Copy)]
pub enum Arrivals {
    /// This many clients, each sending its next request when the last ends.
    Closed { concurrency: usize },
    /// This many requests per second, whatever the server does.
    Open { rate: u32 },
}

pub struct Options {
    pub url: String,
    pub duration: Duration,
    pub arrivals: Arrivals,
    pub mix: mix::Mix,
    /// The one path every request GETs (`--path`), instead of the mix's pages.
    pub path: Option<String>,
    /// Log every client in before the clock starts (`--log-in`).
    pub log_in: bool,
    pub flips: Vec<flips::Flip>,
    /// The local stack's state directory: instances for flips, instance
    /// counts and scaling events for the report.
    pub state_dir: PathBuf,
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    if !options.flips.is_empty()
        && photoscale_infra::local::instance_endpoints(&options.state_dir).is_err()
    {
        anyhow::bail!(
            "--flip needs a running local stack, and none runs from {}\n  fix: start one with `photoscale infra up`, or pass --state-dir",
            options.state_dir.display()
        );
    }
    let site = Arc::new(Site::prepare(&options.url, &options.mix, options.path.clone()).await?);
    let sessions = match options.arrivals {
        Arrivals::Closed { concurrency } => site.sessions(concurrency, options).await?,
        Arrivals::Open { .. } => site.sessions(OPEN_LOOP_SESSIONS, options).await?,
    };
    let stats = Arc::new(Mutex::new(Stats::new()));
    let start = Instant::now();
    let start_unix = unix_ms();
    let deadline = start + options.duration;
    let flips = tokio::spawn(flip_on_schedule(
        options.flips.clone(),
        options.state_dir.clone(),
        start,
    ));
    let (latest_count, watched_count) = tokio::sync::watch::channel(None);
    let counts = tokio::spawn(count_instances(
        options.state_dir.clone(),
        deadline,
        latest_count,
    ));
    let live = tokio::spawn(progress::show_each_second(
        stats.clone(),
        watched_count,
        start,
        deadline,
    ));
    let load = match options.arrivals {
        Arrivals::Closed { .. } => tokio::spawn(drivers::closed_loop(
            site,
            options.mix.clone(),
            sessions,
            start,
            deadline,
            stats.clone(),
        )),
        Arrivals::Open { rate } => tokio::spawn(drivers::open_loop(
            site,
            options.mix.clone(),
            rate,
            sessions,
            start,
            deadline,
            stats.clone(),
        )),
    };
    load.await.context("the load generator stopped")??;
    // The last second's line, if it is about to print; then no more.
    let mut live = live;
    tokio::select! {
        _ = &mut live => {}
        () = tokio::time::sleep(Duration::from_millis(300)) => live.abort(),
    }
    let stats = std::mem::take(&mut *stats.lock().unwrap_or_else(|p| p.into_inner()));
    let elapsed = start.elapsed();
    let mut markers = flips.await.unwrap_or_default();
    markers.extend(scaling_events(&options.state_dir, start_unix));
    markers.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    let mode = match options.arrivals {
        Arrivals::Closed { concurrency } => format!("{concurrency} clients (closed loop)"),
        Arrivals::Open { rate } => format!("{rate} requests/s (open loop)"),
    };
    Ok(Report {
        url: options.url.clone(),
        mode,
        duration_s: elapsed.as_secs_f64(),
        overall: stats.overall(elapsed),
        requests_by_kind: stats
            .by_kind()
            .into_iter()
            .map(|(k, n)| (k.name().to_owned(), n))
            .collect(),
        seconds: stats.per_second(),
        instances: counts.await.unwrap_or_default(),
        markers,
    })
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Sets latencies when the schedule says so; returns what it did.
async fn flip_on_schedule(
    flips: Vec<flips::Flip>,
    state_dir: PathBuf,
    start: Instant,
) -> Vec<Marker> {
    let mut markers = Vec::new();
    let mut flips = flips;
    flips.sort_by_key(|f| f.at);
    for flip in flips {
        tokio::time::sleep_until((start + flip.at).into()).await;
        let target = flip
            .instance
            .clone()
            .unwrap_or_else(|| "all instances".into());
        let text = match set_latency(&state_dir, &flip).await {
            Ok(()) => format!(
                "latency of {target} set to {}",
                humantime::format_duration(flip.latency)
            ),
            Err(e) => format!("could not set the latency of {target}: {e:#}"),
        };
        markers.push(Marker {
            at_s: start.elapsed().as_secs_f64(),
            text,
        });
    }
    markers
}

async fn set_latency(state_dir: &std::path::Path, flip: &flips::Flip) -> anyhow::Result<()> {
    crate::commands::admin_client::set_stack_latency(
        state_dir,
        flip.instance.as_deref(),
        flip.latency,
    )
    .await
    .map(|_| ())
}

/// The number of instances the local stack runs, once a second (read off
/// the runtime: it is a file), also handed to the live line as it comes.
async fn count_instances(
    state_dir: PathBuf,
    deadline: Instant,
    latest: tokio::sync::watch::Sender<Option<u32>>,
) -> Vec<Option<u32>> {
    let mut counts = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    while Instant::now() < deadline {
        ticker.tick().await;
        let dir = state_dir.clone();
        let count = tokio::task::spawn_blocking(move || {
            photoscale_infra::local::instance_endpoints(&dir)
                .ok()
                .map(|e| e.instances.len() as u32)
        })
        .await
        .ok()
        .flatten();
        let _ = latest.send(count);
        counts.push(count);
    }
    counts
}

/// The autoscaler's events since the run started, as chart markers.
fn scaling_events(state_dir: &std::path::Path, start_unix: u64) -> Vec<Marker> {
    photoscale_infra::local::autoscaler::read_events(state_dir)
        .into_iter()
        .filter(|e| e.at >= start_unix)
        .map(|e| Marker {
            at_s: (e.at - start_unix) as f64 / 1000.0,
            text: e.text,
        })
        .collect()
}
