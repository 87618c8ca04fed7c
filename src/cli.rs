//! The `photoscale` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::configuration::CliOverrides;

#[derive(Debug, Parser)]
#[command(
    name = "photoscale",
    version,
    about = "A photo-sharing web app built to be scaled, and the tooling that scales it"
)]
pub struct Cli {
    /// Configuration file (default: ./photoscale.toml when present)
    #[arg(long, global = true, value_name = "FILE", env = "PHOTOSCALE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app
    Serve(ServeArgs),
    /// Inspect the configuration
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Read or change a running instance's simulated latency
    Latency {
        #[command(subcommand)]
        command: LatencyCommand,
    },
    /// Stand up a level of the scaling ladder on this machine, inspect it, stop it
    Infra {
        #[command(subcommand)]
        command: InfraCommand,
    },
    /// Load a site with a mix of requests and report latency, errors and instances over time
    Loadtest(LoadtestArgs),
    /// Copy users and photos between two configurations (database and storage)
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Check what a level needs on this machine and say how to install what is missing
    Doctor {
        /// The level to check, 0 to 4
        #[arg(long, default_value_t = 0)]
        level: u8,
        #[command(flatten)]
        stack: StackArgs,
    },
}

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
    pub mix: crate::loadtest::mix::Mix,
    /// Change latency during the run: OFFSET:LATENCY:INSTANCE|all, e.g. 10s:3s:i-1 (repeatable)
    #[arg(long = "flip", value_name = "AT:LATENCY:TARGET")]
    pub flips: Vec<crate::loadtest::flips::Flip>,
    /// Where series.csv, summary.json and chart.svg go
    #[arg(long, value_name = "DIR", default_value = "loadtest-results")]
    pub out: PathBuf,
    /// The local stack (for --flip, instance counts and scaling events)
    #[command(flatten)]
    pub stack: StateDirArg,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Copy every user and photo from one configuration's database and
    /// storage to another's; what the target already has is not copied again
    Copy {
        /// Configuration file of the source
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Data directory of the source (for SQLite and local photos)
        #[arg(long, value_name = "DIR")]
        from_data_dir: Option<PathBuf>,
        /// Configuration file of the target
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Data directory of the target
        #[arg(long, value_name = "DIR")]
        to_data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum InfraCommand {
    /// Print what `infra up` would run for a level (and what it would change
    /// in a running stack), without starting anything
    Plan {
        /// The level, 0 to 4
        #[arg(long)]
        level: u8,
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        state: StateDirArg,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Start (or change) the stack for a level and return once it is healthy
    Up {
        /// The level, 0 to 4
        #[arg(long)]
        level: u8,
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        state: StateDirArg,
    },
    /// Show each component and instance with its health, address and pid
    Status {
        #[command(flatten)]
        state: StateDirArg,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Stop everything the stack started (data is kept unless --purge)
    Down {
        #[command(flatten)]
        state: StateDirArg,
        /// Also delete the stack's data (database, photos, sessions, logs)
        #[arg(long)]
        purge: bool,
    },
    /// The autoscaler's activity history: alarm changes, policies, launches, terminations
    Events {
        #[command(flatten)]
        state: StateDirArg,
        /// Machine-readable output (one JSON object per line)
        #[arg(long)]
        json: bool,
    },
    /// Run the autoscaler of a level 3+ stack (`infra up` starts it)
    #[command(hide = true)]
    Autoscaler {
        #[command(flatten)]
        state: StateDirArg,
    },
    /// Print the end of the components' logs
    Logs {
        /// One component (haproxy, mariadb, memcached, redis, s3) or instance (i-1, ...)
        name: Option<String>,
        #[command(flatten)]
        state: StateDirArg,
        /// How many lines from the end of each log
        #[arg(short = 'n', long, default_value_t = 40)]
        lines: usize,
        /// Keep printing what is appended, until interrupted
        #[arg(short, long)]
        follow: bool,
    },
}

/// Where a local stack keeps its data, configuration, logs and pids.
#[derive(Debug, Clone, clap::Args)]
pub struct StateDirArg {
    /// The stack's state directory; stacks with different directories and
    /// ports run side by side
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".photoscale",
        env = "PHOTOSCALE_STATE_DIR"
    )]
    pub state_dir: PathBuf,
}

/// Overrides of a level's defaults (`infra plan|up`, `doctor`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StackArgs {
    /// The load balancer's port (the one instance's at level 0)
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Session store; `memory` reproduces "logged out on the other server"
    #[arg(long, value_enum)]
    pub sessions: Option<SessionsArg>,
    /// Photo storage; `local` reproduces "my photo is missing on the other server"
    #[arg(long, value_enum)]
    pub storage: Option<StorageArg>,
    /// Feed cache
    #[arg(long, value_enum)]
    pub cache: Option<CacheArg>,
    /// Fewest instances
    #[arg(long)]
    pub min: Option<u32>,
    /// Most instances
    #[arg(long)]
    pub max: Option<u32>,
    /// Instances to start with
    #[arg(long)]
    pub desired: Option<u32>,
    /// How often the load balancer checks each instance's /healthz, e.g. 2s or 500ms
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub health_interval: Option<std::time::Duration>,
    /// Passed checks before an instance gets traffic
    #[arg(long, value_name = "N")]
    pub health_rise: Option<u32>,
    /// Failed checks before an instance stops getting traffic
    #[arg(long, value_name = "N")]
    pub health_fall: Option<u32>,
    /// Level 3+: the alarms' period (the tutorial's is 1m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub alarm_period: Option<std::time::Duration>,
    /// Level 3+: periods in a row that must breach before an alarm fires
    #[arg(long, value_name = "N")]
    pub evaluation_periods: Option<u32>,
    /// Level 3+: add an instance when the average response time is above this (1s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub high_latency: Option<std::time::Duration>,
    /// Level 3+: remove an instance when it is below this (500ms)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub low_latency: Option<std::time::Duration>,
    /// Level 3+: wait after each scaling activity (5m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub cooldown: Option<std::time::Duration>,
    /// Level 3+: how long a new instance may fail health checks before it is replaced (1m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub grace_period: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SessionsArg {
    Memory,
    Cookie,
    Memcached,
    Redis,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StorageArg {
    Local,
    Shared,
    S3,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CacheArg {
    None,
    Memcached,
    Redis,
}

#[derive(Debug, Subcommand)]
pub enum LatencyCommand {
    /// Print the instance's current simulated latency
    Get(AdminTarget),
    /// Change the instance's simulated latency, e.g. `set 3s` or `set 0s`
    Set {
        /// The new latency, e.g. 250ms, 3s, 0s
        #[arg(value_name = "DURATION", value_parser = parse_duration)]
        latency: std::time::Duration,
        #[command(flatten)]
        target: AdminTarget,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct AdminTarget {
    /// The instance's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An instance of the local stack (i-1, i-2, ...) instead of --url; repeatable
    #[arg(long = "instance", value_name = "ID", conflicts_with = "url")]
    pub instances: Vec<String>,
    /// Every instance of the local stack
    #[arg(long, conflicts_with_all = ["url", "instances"])]
    pub all: bool,
    /// The local stack (with --instance or --all)
    #[command(flatten)]
    pub stack: StateDirArg,
    /// The instance's admin.token; read from PHOTOSCALE_ADMIN__TOKEN or the
    /// configuration file when not given (prefer those: flags show in `ps`)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PHOTOSCALE_ADMIN__TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; use a duration such as 250ms, 3s or 0s"))
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub overrides: CliOverrides,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (all layers merged), secrets redacted
    Show(ServeArgs),
}
