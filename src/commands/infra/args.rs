//! The flags of `infra` (and `doctor`, `loadtest`, `latency`): which stack,
//! where, and what overrides a level's defaults; completed by the `[infra]`
//! section of the configuration file.

use std::path::PathBuf;

use photoscale_infra::spec::{Cache, Overrides, Sessions, Storage};

use crate::commands::parse::{
    parse_ami, parse_duration, parse_email, parse_http_url, parse_nfs, parse_sha256,
};
use crate::configuration::InfraSettings;

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

impl StackArgs {
    /// These flags, with what they leave unset taken from the `[infra]`
    /// section of the configuration file.
    pub fn under_file(&self, file: &InfraSettings) -> StackArgs {
        StackArgs {
            port: self.port.or(file.port),
            sessions: self.sessions,
            storage: self.storage,
            cache: self.cache,
            min: self.min.or(file.min),
            max: self.max.or(file.max),
            desired: self.desired.or(file.desired),
            health_interval: self.health_interval.or(file.health_interval),
            health_rise: self.health_rise.or(file.health_rise),
            health_fall: self.health_fall.or(file.health_fall),
            alarm_period: self.alarm_period.or(file.alarm_period),
            evaluation_periods: self.evaluation_periods.or(file.evaluation_periods),
            high_latency: self.high_latency.or(file.high_latency),
            low_latency: self.low_latency.or(file.low_latency),
            cooldown: self.cooldown.or(file.cooldown),
            grace_period: self.grace_period.or(file.grace_period),
            backup_every: self.backup_every.or(file.backup_every),
        }
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            port: self.port,
            sessions: self.sessions.map(|s| match s {
                SessionsArg::Memory => Sessions::Memory,
                SessionsArg::Cookie => Sessions::Cookie,
                SessionsArg::Memcached => Sessions::Memcached,
                SessionsArg::Redis => Sessions::Redis,
            }),
            storage: self.storage.map(|s| match s {
                StorageArg::Local => Storage::Local,
                StorageArg::Shared => Storage::Shared,
                StorageArg::S3 => Storage::S3,
            }),
            cache: self.cache.map(|c| match c {
                CacheArg::None => Cache::None,
                CacheArg::Memcached => Cache::Memcached,
                CacheArg::Redis => Cache::Redis,
            }),
            min: self.min,
            max: self.max,
            desired: self.desired,
            health_interval_ms: self.health_interval.map(|d| d.as_millis() as u64),
            health_rise: self.health_rise,
            health_fall: self.health_fall,
            alarm_period_s: self.alarm_period.map(|d| d.as_secs().max(1)),
            evaluation_periods: self.evaluation_periods,
            high_latency_ms: self.high_latency.map(|d| d.as_millis() as u64),
            low_latency_ms: self.low_latency.map(|d| d.as_millis() as u64),
            cooldown_s: self.cooldown.map(|d| d.as_secs()),
            grace_period_s: self.grace_period.map(|d| d.as_secs()),
            backup_every_s: self.backup_every.map(|d| d.as_secs().max(1)),
        }
    }
}

/// The flags, completed by the `[infra]` section of the configuration file
/// (`--config FILE`, else ./photoscale.toml when present; never a parent
/// directory's).
pub fn with_config_file(stack: &StackArgs, config: Option<PathBuf>) -> anyhow::Result<StackArgs> {
    Ok(stack.under_file(&infra_settings(config)?))
}

/// The `[infra]` section of the configuration file.
pub fn infra_settings(config: Option<PathBuf>) -> anyhow::Result<InfraSettings> {
    Ok(crate::commands::settings::load(config, Default::default())?.infra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file() {
        let file: InfraSettings = toml::from_str("min = 3\nmax = 5\ncooldown = \"20s\"\n").unwrap();
        let flags = StackArgs {
            max: Some(4),
            ..Default::default()
        };
        let merged = flags.under_file(&file);
        assert_eq!((merged.min, merged.max), (Some(3), Some(4)));
        assert_eq!(merged.cooldown, Some(std::time::Duration::from_secs(20)));
        assert!(toml::from_str::<InfraSettings>("maximum = 3").is_err());
    }
}
