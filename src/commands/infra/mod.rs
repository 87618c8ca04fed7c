//! `photoscale infra ...`: flags turned into a `StackSpec` (from the
//! photoscale-infra crate), then printed, checked, or handed to the local
//! or the AWS provider.

pub mod args;
pub mod aws;
pub mod local;
pub mod schedule;

use std::path::PathBuf;

use clap::Subcommand;

use crate::commands::parse::parse_duration;
use args::{
    infra_settings, with_config_file, AwsDownArgs, AwsStackArgs, StackArgs, StateDirArg, TargetArg,
    TargetArgs,
};

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
        command: schedule::ScheduleCommand,
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

/// Runs one `photoscale infra ...` command.
pub async fn run(command: InfraCommand, config: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        InfraCommand::Plan {
            level,
            stack,
            state,
            target,
            aws,
            json,
        } => {
            let stack = with_config_file(&stack, config)?;
            match target.target {
                TargetArg::Local => local::plan(level, &stack, &state.state_dir, json),
                TargetArg::Aws => {
                    aws::plan(level, &stack, &target, &aws, &state.state_dir, json).await
                }
            }
        }
        InfraCommand::Up {
            level,
            stack,
            state,
            target,
            aws,
            no_control_link,
        } => {
            let settings = infra_settings(config)?;
            let stack = stack.under_file(&settings);
            match target.target {
                TargetArg::Local => {
                    local::up(level, &stack, state.state_dir.clone(), !no_control_link).await?
                }
                TargetArg::Aws => {
                    aws::up(level, &stack, &target, &aws, &state.state_dir).await?
                }
            }
            if level >= 3 {
                schedule::apply_configured(&settings.schedule, &target, &state).await?;
            }
            Ok(())
        }
        InfraCommand::Schedule { command } => schedule::run(command).await,
        InfraCommand::Deploy {
            binary,
            batch,
            pause,
            health_timeout,
            state,
            target,
            stack,
            mut aws,
        } => {
            if target.target == TargetArg::Aws {
                aws.app_binary = binary.or(aws.app_binary);
                let stack = with_config_file(&stack, config)?;
                return aws::deploy(&stack, &target, &aws, &state.state_dir).await;
            }
            local::deploy(photoscale_infra::local::DeployOptions {
                state_dir: state.state_dir,
                binary: match binary {
                    Some(path) => path,
                    None => std::env::current_exe()?,
                },
                batch: batch as usize,
                pause,
                health_limit: health_timeout,
            })
            .await
        }
        InfraCommand::Status {
            state,
            target,
            json,
        } => match target.target {
            TargetArg::Local => local::status(&state.state_dir, json).await,
            TargetArg::Aws => aws::status(&target, &state.state_dir, json).await,
        },
        InfraCommand::Down {
            state,
            target,
            purge,
            aws,
        } => match target.target {
            TargetArg::Local if aws.final_snapshot => anyhow::bail!(
                "--final-snapshot is for --target aws: a local stack's database stays in its state directory unless --purge is given"
            ),
            TargetArg::Local => local::down(&state.state_dir, purge).await,
            TargetArg::Aws => aws::down(&target, &aws, &state.state_dir).await,
        },
        InfraCommand::Events { state, json } => local::events(&state.state_dir, json),
        InfraCommand::Fleet { state, bind } => {
            let _logs = crate::telemetry::init(crate::configuration::LogFormat::Text, "warn");
            crate::commands::fleet::serve(state.state_dir, bind).await
        }
        InfraCommand::Autoscaler { state } => {
            let _logs = crate::telemetry::init(crate::configuration::LogFormat::Text, "info");
            Ok(photoscale_infra::local::autoscaler::run(&state.state_dir).await?)
        }
        InfraCommand::Logs {
            name,
            state,
            lines,
            follow,
        } => {
            let options = photoscale_infra::local::LogsOptions {
                name,
                lines,
                follow,
            };
            match photoscale_infra::local::logs(&state.state_dir, &options, &mut std::io::stdout()).await {
                Err(photoscale_infra::local::LocalError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                result => Ok(result?),
            }
        }
    }
}
