//! The AWS provider: makes a `StackSpec` real with the official AWS SDK.
//!
//! Every resource is named after the stack and tagged `photoscale:stack` and
//! `photoscale:level`, so what exists is always found again by asking AWS
//! (`inventory`), with or without the state file. `plan` compares that with
//! what the level wants; `up` creates, changes and deletes until they match
//! (and can be re-run after any failure); `down` deletes everything in
//! dependency order.
//!
//! ```text
//! level 0  EC2 instance (SQLite, disk), security group, IAM role (secrets), SSM secrets
//! level 1  + ALB, target group, listener; RDS MySQL; ElastiCache; 2 instances
//! level 2  + S3 bucket (private), role policy for its objects
//! level 3  + launch template, Auto Scaling group, 2 alarms, 2 scaling policies
//! level 4  + feed cache on the ElastiCache cluster
//! ```

mod alarms;
pub mod app_binary;
mod artifacts;
mod bucket;
mod cache_cluster;
mod clients;
pub mod cost;
mod database;
mod discovery;
mod down;
mod error;
mod fleet;
mod iam;
mod iam_propagation;
mod instance_refresh;
mod inventory;
mod load_balancer;
mod network;
mod ownership;
pub mod plan;
pub mod schedules;
mod secrets;
mod subnet_groups;
mod subnets;
mod up;
pub mod user_data;
mod wait;

pub use crate::aws_names as names;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use clients::{Clients, Connection};
pub use down::{down, down_warning, DownReport};
pub use error::AwsError;
pub use inventory::Inventory;
pub use names::StackName;
pub use plan::{Action, Change};
pub use up::{up, UpReport};

/// The port photoscale listens on behind the load balancer.
pub const APP_PORT: u16 = 8080;
/// At level 0 the one instance is the web server.
pub const DIRECT_PORT: u16 = 80;

/// The operating system the instances run (for the AMI lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    AmazonLinux,
    Ubuntu,
}

/// Where the instances download photoscale from (`--app-url`): a Linux
/// x86_64 release build.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AppSource {
    /// `--app-binary` (by default the running program): uploaded to the
    /// stack's artifacts bucket, fetched by the instances with their role.
    pub binary: Option<PathBuf>,
    /// `--app-url`, hosted by the user; needs `sha256`.
    pub url: Option<String>,
    /// The program's SHA-256 (computed from `binary`, given with `url`).
    pub sha256: Option<String>,
}

/// How long to wait for AWS before giving up.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub database: Duration,
    pub cache: Duration,
    pub instances: Duration,
    pub deletion: Duration,
    /// Between two looks at something AWS is still working on.
    pub poll: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            // RDS usually takes 5 to 15 minutes, ElastiCache 5 to 10.
            database: Duration::from_secs(40 * 60),
            cache: Duration::from_secs(30 * 60),
            instances: Duration::from_secs(15 * 60),
            deletion: Duration::from_secs(40 * 60),
            poll: Duration::from_secs(10),
        }
    }
}

/// Everything `--target aws` needs besides the level.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    pub stack: StackName,
    pub connection: Connection,
    /// Where `aws-<stack>.json` (ids and ARNs found last time) is written.
    pub state_dir: PathBuf,
    pub app: AppSource,
    /// An AMI id; else the latest image of `os` is looked up.
    pub ami: Option<String>,
    pub os: Os,
    pub instance_type: String,
    /// A VPC id; else the region's default VPC.
    pub vpc: Option<String>,
    /// An ACM certificate: the load balancer then also listens on 443.
    pub certificate_arn: Option<String>,
    /// Level 3+: alarm notifications to this address (a new SNS topic)...
    pub notify_email: Option<String>,
    /// ... or to this existing topic.
    pub notify_topic_arn: Option<String>,
    pub db_instance_class: String,
    pub cache_node_type: String,
    /// Level 1: an NFS export (`host:/path`, e.g. EFS) the instances mount for photos.
    pub nfs: Option<String>,
    /// The user gave --desired (else an Auto Scaling group keeps its capacity).
    pub desired_given: bool,
    /// `--ssm-access`: Session Manager may open a shell on the instances.
    pub ssm_access: bool,
    /// `down --final-snapshot`: RDS keeps a snapshot of the database.
    pub final_snapshot: bool,
    pub timeouts: Timeouts,
}

impl AwsOptions {
    /// Defaults for everything but the stack and the connection.
    pub fn new(stack: StackName, connection: Connection, state_dir: PathBuf) -> Self {
        Self {
            stack,
            connection,
            state_dir,
            app: AppSource::default(),
            ami: None,
            os: Os::AmazonLinux,
            instance_type: "t3.micro".into(),
            vpc: None,
            certificate_arn: None,
            notify_email: None,
            notify_topic_arn: None,
            db_instance_class: "db.t3.micro".into(),
            cache_node_type: "cache.t3.micro".into(),
            nfs: None,
            desired_given: false,
            ssm_access: false,
            final_snapshot: false,
            timeouts: Timeouts::default(),
        }
    }
}

/// Options for stack `demo` with the defaults, for unit tests.
#[cfg(test)]
pub(crate) fn test_options() -> AwsOptions {
    AwsOptions::new(
        StackName::parse("demo").unwrap(),
        Connection::default(),
        "/tmp".into(),
    )
}

/// What the stack has in AWS, found by name and tag.
pub async fn status(options: &AwsOptions) -> Result<Inventory, AwsError> {
    let clients = Clients::connect(&options.connection).await?;
    let found = discovery::discover(&clients, &options.stack).await?;
    if found.is_empty() {
        remove_state(&options.state_dir, &options.stack)?;
    } else {
        save_state(&options.state_dir, &options.stack, &found)?;
    }
    Ok(found)
}

/// The changes `up` would make for `spec`, without making them.
pub async fn plan(
    spec: &crate::StackSpec,
    options: &AwsOptions,
) -> Result<(Inventory, Vec<Change>), AwsError> {
    let (options, binary) = artifacts::resolve(options)?;
    if let Some(binary) = &binary {
        for warning in app_binary::check_runs_on(binary, &options)? {
            tracing::warn!("{warning}");
        }
    }
    let clients = Clients::connect(&options.connection).await?;
    let found = discovery::discover(&clients, &options.stack).await?;
    let wanted = plan::wanted(spec, &options, &clients);
    let changes = plan::changes(&wanted, &found);
    Ok((found, changes))
}

/// `<state-dir>/aws-<stack>.json`: what was found or made last time.
pub fn state_file(state_dir: &Path, stack: &StackName) -> PathBuf {
    state_dir.join(format!("aws-{stack}.json"))
}

fn save_state(state_dir: &Path, stack: &StackName, found: &Inventory) -> Result<(), AwsError> {
    let path = state_file(state_dir, stack);
    let write = || {
        std::fs::create_dir_all(state_dir)?;
        let text = serde_json::to_string_pretty(found).map_err(std::io::Error::other)?;
        crate::write_atomically(&path, (text + "\n").as_bytes())
    };
    write().map_err(|source| AwsError::State { path, source })
}

fn remove_state(state_dir: &Path, stack: &StackName) -> Result<(), AwsError> {
    let path = state_file(state_dir, stack);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(AwsError::State { path, source: e })
        }
        _ => Ok(()),
    }
}
