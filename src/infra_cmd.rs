//! The `infra` and `doctor` subcommands: turn flags into a `StackSpec` (from
//! the photoscale-infra crate), then print it, check its prerequisites, or
//! hand it to the local provider.

use std::path::{Path, PathBuf};

use photoscale_infra::doctor;
use photoscale_infra::local;
use photoscale_infra::plan::{self, Addresses};
use photoscale_infra::spec::{Cache, Overrides, Sessions, StackSpec, Storage, Target};

use crate::aws_cmd;
use crate::cli::{CacheArg, InfraCommand, SessionsArg, StackArgs, StorageArg, TargetArg};

/// The flags, completed by the `[infra]` section of the configuration file
/// (`--config FILE`, else ./photoscale.toml when present; never a parent
/// directory's).
pub fn with_config_file(stack: &StackArgs, config: Option<PathBuf>) -> anyhow::Result<StackArgs> {
    Ok(infra_settings(config)?.under(stack))
}

/// The `[infra]` section of the configuration file.
fn infra_settings(config: Option<PathBuf>) -> anyhow::Result<crate::infra_settings::InfraSettings> {
    let sources = crate::configuration::ConfigSources {
        file: config,
        overrides: Default::default(),
    };
    crate::configuration::warn_if_parent_config_ignored(&sources);
    let settings = crate::configuration::Settings::load(&sources)?;
    Ok(settings.infra)
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
                TargetArg::Local => plan(level, &stack, &state.state_dir, json),
                TargetArg::Aws => {
                    aws_cmd::plan(level, &stack, &target, &aws, &state.state_dir, json).await
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
            let stack = settings.under(&stack);
            match target.target {
                TargetArg::Local => {
                    up(level, &stack, state.state_dir.clone(), !no_control_link).await?
                }
                TargetArg::Aws => {
                    aws_cmd::up(level, &stack, &target, &aws, &state.state_dir).await?
                }
            }
            if level >= 3 {
                crate::schedule_cmd::apply_configured(&settings.schedule, &target, &state).await?;
            }
            Ok(())
        }
        InfraCommand::Schedule { command } => crate::schedule_cmd::run(command).await,
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
                return aws_cmd::deploy(&stack, &target, &aws, &state.state_dir).await;
            }
            deploy(local::DeployOptions {
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
            TargetArg::Local => status(&state.state_dir, json).await,
            TargetArg::Aws => aws_cmd::status(&target, &state.state_dir, json).await,
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
            TargetArg::Local => down(&state.state_dir, purge).await,
            TargetArg::Aws => aws_cmd::down(&target, &aws, &state.state_dir).await,
        },
        InfraCommand::Events { state, json } => events(&state.state_dir, json),
        InfraCommand::Fleet { state, bind } => {
            let _logs = crate::telemetry::init(crate::configuration::LogFormat::Text, "warn");
            crate::fleet::serve(state.state_dir, bind).await
        }
        InfraCommand::Autoscaler { state } => {
            let _logs = crate::telemetry::init(crate::configuration::LogFormat::Text, "info");
            Ok(local::autoscaler::run(&state.state_dir).await?)
        }
        InfraCommand::Logs {
            name,
            state,
            lines,
            follow,
        } => {
            let options = local::LogsOptions {
                name,
                lines,
                follow,
            };
            match local::logs(&state.state_dir, &options, &mut std::io::stdout()).await {
                Err(local::LocalError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                result => Ok(result?),
            }
        }
    }
}

/// Prints to stdout; a reader that went away (`| head`) is not an error.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

async fn up(
    level: u8,
    stack: &StackArgs,
    state_dir: std::path::PathBuf,
    control_link: bool,
) -> anyhow::Result<()> {
    let (spec, addresses) = spec_for(level, stack)?;
    let options = local::UpOptions {
        state_dir,
        app_program: std::env::current_exe()?,
        desired_given: stack.desired.is_some(),
    };
    eprintln!(
        "Bringing up level {level} from {} (entry http://{}):",
        options.state_dir.display(),
        addresses.entry
    );
    let report = local::up(&spec, &addresses, &options).await?;
    if report.changed_nothing() {
        eprintln!("Nothing to change: the level {level} stack already runs as planned.");
    }
    if let Some(fleet) = addresses.fleet {
        let view = crate::fleet::describe_view(&options.state_dir, fleet.into(), control_link);
        eprint!("{view}");
    }
    print_stdout(&format!("{}\n", report.url));
    Ok(())
}

async fn deploy(options: local::DeployOptions) -> anyhow::Result<()> {
    let report = local::deploy(&options).await?;
    if report.replaced.is_empty() {
        eprintln!("Nothing to deploy: the stack already runs {}.", report.to);
    } else {
        eprintln!(
            "Deployed {} (was {}): {}.",
            report.to,
            report.from,
            report
                .replaced
                .iter()
                .map(|(old, new)| format!("{old} -> {new}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

async fn status(state_dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let report = local::status(state_dir).await?;
    if json {
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&report)?));
    } else {
        print_stdout(&report.render());
    }
    let problems = report.problems();
    if !problems.is_empty() {
        anyhow::bail!("not everything is healthy: {}", problems.join(", "));
    }
    Ok(())
}

fn events(state_dir: &Path, json: bool) -> anyhow::Result<()> {
    let events = local::autoscaler::read_events(state_dir);
    let mut out = String::new();
    if events.is_empty() && !json {
        out.push_str("No scaling activity yet (the autoscaler runs at level 3 and up).\n");
    }
    for event in events {
        if json {
            out.push_str(&serde_json::to_string(&event)?);
        } else {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(event.at);
            out.push_str(&format!(
                "{}  {}",
                humantime::format_rfc3339_seconds(at),
                event.text
            ));
        }
        out.push('\n');
    }
    print_stdout(&out);
    Ok(())
}

async fn down(state_dir: &std::path::Path, purge: bool) -> anyhow::Result<()> {
    let report = local::down(state_dir, purge).await?;
    if report.stopped.is_empty() && report.already_gone.is_empty() {
        eprintln!("Nothing was running from {}.", state_dir.display());
    }
    for name in &report.stopped {
        eprintln!("  stopped  {name}");
    }
    for name in &report.already_gone {
        eprintln!("  gone     {name} (had already exited)");
    }
    if report.purged {
        eprintln!("Deleted {} and all its data.", state_dir.display());
    }
    Ok(())
}

impl StackArgs {
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

fn spec_for(level: u8, stack: &StackArgs) -> anyhow::Result<(StackSpec, Addresses)> {
    let overrides = stack.overrides();
    let spec = StackSpec::for_level(level, Target::Local, &overrides)?;
    let addresses = Addresses::for_spec(&spec, spec.entry_port(&overrides));
    Ok((spec, addresses))
}

/// `photoscale infra plan`: what would run, without starting anything.
fn plan(level: u8, stack: &StackArgs, state_dir: &Path, json: bool) -> anyhow::Result<()> {
    let (spec, addresses) = spec_for(level, stack)?;
    let running = local::running_spec(state_dir)?;
    if json {
        let value = serde_json::json!({ "spec": spec, "addresses": addresses, "running": running });
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?));
        return Ok(());
    }
    let mut text = plan::describe(&spec, &addresses);
    if let Some(before) = running {
        text.push_str(&plan::describe_changes(&before, &spec));
    }
    print_stdout(&text);
    Ok(())
}

/// `photoscale doctor`: exit status 0 only when the level can run here.
pub fn doctor(level: u8, stack: &StackArgs) -> anyhow::Result<bool> {
    let (spec, _) = spec_for(level, stack)?;
    let report = doctor::check(&spec);
    print_stdout(&report.render());
    Ok(report.is_ready())
}
