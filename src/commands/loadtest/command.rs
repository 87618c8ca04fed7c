//! `photoscale loadtest`: its flags, turned into the load test's options.

use std::path::PathBuf;

use crate::commands::infra::args::StateDirArg;
use crate::commands::parse::{parse_duration, parse_request_path};

#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// The site: a load balancer or one instance
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// How long to send requests, e.g. 30s or 2m
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Clients sending back to back (closed loop)
    #[arg(long, value_name = "N", conflicts_with = "rate")]
    pub concurrency: Option<usize>,
    /// Requests per second, whatever the server does (open loop)
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<u32>,
    /// Weights of the request kinds
    #[arg(
        long,
        value_name = "KIND=WEIGHT,...",
        default_value = "feed=80,photo=15,login=3,upload=2"
    )]
    pub mix: super::mix::Mix,
    /// GET only this path (e.g. /healthz or /photos/ID/thumb) instead of the mix, as benchmarks do
    #[arg(long, value_name = "PATH", conflicts_with = "mix", value_parser = parse_request_path)]
    pub path: Option<String>,
    /// Log every client in before the clock starts, so the pages are a member's
    #[arg(long)]
    pub log_in: bool,
    /// Change latency during the run: OFFSET:LATENCY:INSTANCE|all, e.g. 10s:3s:i-1 (repeatable)
    #[arg(long = "flip", value_name = "AT:LATENCY:TARGET")]
    pub flips: Vec<super::flips::Flip>,
    /// Where series.csv, summary.json and report.html go
    #[arg(long, value_name = "DIR", default_value = "loadtest-results")]
    pub out: PathBuf,
    /// The local stack (for --flip, instance counts and scaling events)
    #[command(flatten)]
    pub stack: StateDirArg,
}

pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    use crate::commands::loadtest::{self, Arrivals};
    let arrivals = match (args.concurrency, args.rate) {
        (_, Some(0)) | (Some(0), _) => {
            anyhow::bail!("--rate and --concurrency must be at least 1")
        }
        (_, Some(rate)) => Arrivals::Open { rate },
        (concurrency, None) => Arrivals::Closed {
            concurrency: concurrency.unwrap_or(8),
        },
    };
    let mix = match &args.path {
        Some(_) => loadtest::mix::Mix::single(loadtest::mix::Kind::Get),
        None => args.mix,
    };
    let options = loadtest::Options {
        url: args.url,
        duration: args.duration,
        arrivals,
        mix,
        path: args.path,
        log_in: args.log_in,
        flips: args.flips,
        state_dir: args.stack.state_dir,
    };
    let report = loadtest::run(&options).await?;
    print!("{}", report.render_text());
    let files = report.write(&args.out)?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    println!("wrote {}", names.join(", "));
    Ok(())
}
