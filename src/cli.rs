//! The `photoscale` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::configuration::CliOverrides;

#[derive(Debug, Parser)]
#[command(
    name = "photoscale",
    version = crate::build_info::BUILD_ID,
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
    /// Back up the configured database (with a manifest of its photos),
    /// list, restore and prune the backups
    Backup {
        #[command(subcommand)]
        command: crate::backup_cmd::BackupCommand,
    },
    /// The local stack's S3-compatible server: objects in files under ROOT,
    /// every request signed with the key pair in PHOTOSCALE_S3_ACCESS_KEY_ID
    /// and PHOTOSCALE_S3_SECRET_ACCESS_KEY (`infra up` starts it at level 2+)
    S3Server(S3ServerArgs),
    /// Walk the whole ladder (levels 0 to 4) on this machine, showing each
    /// level working (and level 1 broken first), then stop everything
    Tour(TourArgs),
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
pub struct S3ServerArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9000")]
    pub listen: std::net::SocketAddr,
    /// Directory of the objects (one directory per bucket)
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// A bucket to make at start when missing (repeatable)
    #[arg(long = "bucket", value_name = "NAME")]
    pub buckets: Vec<String>,
    /// Copy the buckets' objects from the S3-compatible server at URL into
    /// ROOT, then exit (how `infra up` moves a stack's photos out of moto)
    #[arg(long, value_name = "URL")]
    pub import_from: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TourArgs {
    /// Run unattended (no Enter between steps) and write the report
    #[arg(long)]
    pub auto: bool,
    /// With --auto: install what is missing (Debian packages) without asking
    #[arg(long, requires = "auto")]
    pub install: bool,
    /// Leave the last level running at the end
    #[arg(long)]
    pub keep: bool,
    /// The first port of the tour's stack (the site; the stack uses the next 14, the fleet view the 15th)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The tour's own state directory
    #[arg(long, value_name = "DIR", default_value = ".photoscale-tour")]
    pub state_dir: PathBuf,
    /// Where --auto writes summary.json and index.html
    #[arg(long, value_name = "DIR", default_value = "tour-report")]
    pub out: PathBuf,
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
    /// GET only this path (e.g. /healthz or /photos/ID/thumb) instead of the mix, as benchmarks do
    #[arg(long, value_name = "PATH", conflicts_with = "mix", value_parser = parse_request_path)]
    pub path: Option<String>,
    /// Log every client in before the clock starts, so the pages are a member's
    #[arg(long)]
    pub log_in: bool,
    /// Change latency during the run: OFFSET:LATENCY:INSTANCE|all, e.g. 10s:3s:i-1 (repeatable)
    #[arg(long = "flip", value_name = "AT:LATENCY:TARGET")]
    pub flips: Vec<crate::loadtest::flips::Flip>,
    /// Where series.csv, summary.json and report.html go
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
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        aws: Box<AwsStackArgs>,
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
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        aws: Box<AwsStackArgs>,
        /// Print no one-time link to the fleet view's controls (the tour
        /// prints one for the whole tour instead of one per level)
        #[arg(long)]
        no_control_link: bool,
    },
    /// Show each component and instance with its health, address and pid
    Status {
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Stop everything the stack started (data is kept unless --purge; on
    /// AWS everything is deleted, data included)
    Down {
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
        /// Also delete the stack's data (database, photos, sessions, logs)
        #[arg(long)]
        purge: bool,
        #[command(flatten)]
        aws: AwsDownArgs,
    },
    /// The autoscaler's activity history: alarm changes, policies, launches, terminations
    Events {
        #[command(flatten)]
        state: StateDirArg,
        /// Machine-readable output (one JSON object per line)
        #[arg(long)]
        json: bool,
    },
    /// Serve a live view of the stack for a browser: instances, alarms,
    /// scaling events, and a chart of response time and instance count
    Fleet {
        #[command(flatten)]
        state: StateDirArg,
        /// Where to serve the view (port 0: any free port)
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8099")]
        bind: std::net::SocketAddr,
    },
    /// Replace the fleet's program with a new build, a batch at a time,
    /// each new instance healthy before an old one leaves; rolled back when
    /// a new instance fails its health check
    Deploy {
        /// The new build (default: this photoscale)
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// Instances replaced at a time
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        batch: u32,
        /// Wait between batches, e.g. 10s
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
        pause: std::time::Duration,
        /// How long a new instance has to pass its health check
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        health_timeout: std::time::Duration,
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
        /// AWS: the stack's settings, as given to `infra up` (the level is the stack's own)
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        aws: Box<AwsStackArgs>,
    },
    /// Scheduled scaling (levels 3 and 4): set the group's capacity ahead
    /// of known load, once or on a cron pattern
    Schedule {
        #[command(subcommand)]
        command: crate::schedule_cmd::ScheduleCommand,
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

/// Which provider, and for AWS which stack where (`infra plan|up|status|down`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Where the stack runs: this machine, or AWS (needs a build with `--features aws`)
    #[arg(long, value_enum, default_value_t = TargetArg::Local)]
    pub target: TargetArg,
    /// AWS: the stack's name; every resource is named and tagged after it
    #[arg(long = "stack", value_name = "NAME", default_value = "photoscale", value_parser = photoscale_infra::aws_names::StackName::parse)]
    pub stack_name: photoscale_infra::aws_names::StackName,
    /// AWS: the region (else AWS_REGION or the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS: a named profile from ~/.aws/config (else AWS_PROFILE or default)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// AWS: one endpoint for every service, e.g. an emulator such as moto_server
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    Local,
    Aws,
}

/// How `infra down --target aws` deletes.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "AWS (--target aws)")]
pub struct AwsDownArgs {
    /// Delete without asking (scripts); else `down` shows the account,
    /// region and what holds data, and asks for the stack's name
    #[arg(long)]
    pub yes: bool,
    /// Keep a final snapshot of the RDS database (deleted without one otherwise)
    #[arg(long)]
    pub final_snapshot: bool,
}

/// What the AWS instances are made of (`infra plan|up --target aws`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "AWS instances (--target aws)")]
pub struct AwsStackArgs {
    /// The program the instances run, uploaded to the stack's private
    /// artifacts bucket (default: this photoscale, when it is a Linux x86_64 build)
    #[arg(long, value_name = "PATH", conflicts_with = "app_url")]
    pub app_binary: Option<std::path::PathBuf>,
    /// Instead: where instances download photoscale, hosted by you (needs --app-sha256)
    #[arg(long, value_name = "URL", value_parser = parse_http_url, requires = "app_sha256")]
    pub app_url: Option<String>,
    /// The SHA-256 of the program at --app-url
    #[arg(long, value_name = "HEX", value_parser = parse_sha256)]
    pub app_sha256: Option<String>,
    /// An AMI id (else the latest image of --os in the region)
    #[arg(long, value_name = "AMI", value_parser = parse_ami)]
    pub ami: Option<String>,
    /// The operating system looked up when --ami is not given
    #[arg(long, value_enum, default_value_t = OsArg::AmazonLinux)]
    pub os: OsArg,
    #[arg(long, value_name = "TYPE", default_value = "t3.micro")]
    pub instance_type: String,
    /// A VPC id (else the region's default VPC)
    #[arg(long, value_name = "VPC")]
    pub vpc: Option<String>,
    /// An ACM certificate ARN: the load balancer also listens on 443
    #[arg(long, value_name = "ARN")]
    pub certificate_arn: Option<String>,
    /// Level 3+: e-mail alarm notifications to this address (a new SNS topic)
    #[arg(long, value_name = "ADDRESS", value_parser = parse_email, conflicts_with = "notify_topic")]
    pub notify_email: Option<String>,
    /// Level 3+: send alarm notifications to this existing SNS topic
    #[arg(long, value_name = "ARN")]
    pub notify_topic: Option<String>,
    #[arg(long, value_name = "CLASS", default_value = "db.t3.micro")]
    pub db_instance_class: String,
    #[arg(long, value_name = "TYPE", default_value = "cache.t3.micro")]
    pub cache_node_type: String,
    /// Level 1: an NFS export (e.g. EFS) for photos, as HOST:/PATH
    #[arg(long, value_name = "HOST:/PATH", value_parser = parse_nfs)]
    pub nfs: Option<String>,
    /// Let Session Manager open a shell on the instances (no SSH, no open
    /// port): attaches AmazonSSMManagedInstanceCore to their role
    #[arg(long)]
    pub ssm_access: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OsArg {
    AmazonLinux,
    Ubuntu,
}

fn parse_http_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(text.to_owned())
        }
        _ => Err(
            "not an http(s) URL; use e.g. https://example.com/photoscale or http://127.0.0.1:5000"
                .into(),
        ),
    }
}

fn parse_sha256(text: &str) -> Result<String, String> {
    if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("a SHA-256 is 64 hexadecimal digits, as `sha256sum` prints".into())
    }
}

fn parse_ami(text: &str) -> Result<String, String> {
    let ok = text
        .strip_prefix("ami-")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("an AMI id looks like ami-0abcdef1234567890".into())
    }
}

fn parse_email(text: &str) -> Result<String, String> {
    match text.split_once('@') {
        Some((user, host))
            if !user.is_empty() && host.contains('.') && !text.contains(char::is_whitespace) =>
        {
            Ok(text.to_owned())
        }
        _ => Err("not an e-mail address; use e.g. ops@example.com".into()),
    }
}

fn parse_nfs(text: &str) -> Result<String, String> {
    match text.split_once(":/") {
        Some((host, _)) if !host.is_empty() && !text.contains(char::is_whitespace) => {
            Ok(text.to_owned())
        }
        _ => Err("an NFS export is HOST:/PATH, e.g. fs-0123.efs.eu-west-1.amazonaws.com:/".into()),
    }
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
    /// Level 1+: back the database up this often, one instance at a time
    /// (RightScale's default was 10m; off unless given)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub backup_every: Option<std::time::Duration>,
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

/// A path on the site under test: "/healthz", "/photos/ID/thumb".
fn parse_request_path(text: &str) -> Result<String, String> {
    let ok =
        text.starts_with('/') && !text.starts_with("//") && !text.contains(char::is_whitespace);
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a path on the site; use one that starts with a single /, e.g. /healthz"
        ))
    }
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
