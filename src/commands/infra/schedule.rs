//! `photoscale infra schedule add|list|remove`: capacity set ahead of known
//! load, on a level 3+ stack. Locally the autoscaler runs the actions; on
//! AWS they are the group's scheduled actions.

use photoscale_infra::local;
use photoscale_infra::schedule::ScheduledAction;

use super::args::{StateDirArg, TargetArg, TargetArgs};
use crate::commands::output::print_stdout;

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Add a scheduled action (or replace the one of the same name)
    Add {
        /// The action's name: letters, digits, '-' or '_'
        name: String,
        /// When it recurs: a five-field cron pattern, e.g. "0 8 * * 1-5" (08:00 on weekdays)
        #[arg(
            long,
            value_name = "PATTERN",
            required_unless_present = "at",
            conflicts_with = "at"
        )]
        cron: Option<String>,
        /// Instead: once, at this time, e.g. 2026-12-01T08:00 (in --time-zone) or 2026-12-01T08:00:00Z
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// The time zone of --cron and --at, an IANA name
        #[arg(long, value_name = "ZONE", default_value = "UTC")]
        time_zone: String,
        /// The group's new minimum
        #[arg(long, value_name = "N")]
        min: Option<u32>,
        /// The group's new maximum
        #[arg(long, value_name = "N")]
        max: Option<u32>,
        /// The group's new desired capacity (else kept, inside the new bounds)
        #[arg(long, value_name = "N")]
        desired: Option<u32>,
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// List the stack's scheduled actions, with when each runs next
    List {
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Remove a scheduled action
    Remove {
        name: String,
        #[command(flatten)]
        state: StateDirArg,
        #[command(flatten)]
        target: TargetArgs,
    },
}

pub async fn run(command: ScheduleCommand) -> anyhow::Result<()> {
    match command {
        ScheduleCommand::Add {
            name,
            cron,
            at,
            time_zone,
            min,
            max,
            desired,
            state,
            target,
        } => {
            let action = ScheduledAction {
                name,
                cron,
                at,
                time_zone,
                min,
                max,
                desired,
            };
            action.validate()?;
            let replaced = match target.target {
                TargetArg::Local => local::schedules::add(&state.state_dir, action.clone()).await?,
                TargetArg::Aws => {
                    aws::put(&target, &state.state_dir, std::slice::from_ref(&action)).await?;
                    false
                }
            };
            let verb = if replaced { "replaced" } else { "added" };
            eprintln!(
                "Scheduled action {} {verb}: {}, {}.",
                action.name,
                action.when_text(),
                action.capacity_text()
            );
            if let Some(next) = action.next_after(jiff::Timestamp::now()) {
                eprintln!("  next run: {next}");
            }
            Ok(())
        }
        ScheduleCommand::List {
            state,
            target,
            json,
        } => {
            let actions = match target.target {
                TargetArg::Local => local::schedules::list(&state.state_dir)?,
                TargetArg::Aws => aws::list(&target, &state.state_dir).await?,
            };
            print_stdout(&render(&actions, json)?);
            Ok(())
        }
        ScheduleCommand::Remove {
            name,
            state,
            target,
        } => {
            match target.target {
                TargetArg::Local => local::schedules::remove(&state.state_dir, &name).await?,
                TargetArg::Aws => aws::remove(&target, &state.state_dir, &name).await?,
            }
            eprintln!("Scheduled action {name} removed.");
            Ok(())
        }
    }
}

/// `[[infra.schedule]]` applied after `infra up` (level 3 and up).
pub async fn apply_configured(
    actions: &[ScheduledAction],
    target: &TargetArgs,
    state: &StateDirArg,
) -> anyhow::Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    match target.target {
        TargetArg::Local => local::schedules::apply(&state.state_dir, actions).await?,
        TargetArg::Aws => aws::put(target, &state.state_dir, actions).await?,
    }
    eprintln!(
        "Scheduled actions from the configuration file: {}.",
        actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn render(actions: &[ScheduledAction], json: bool) -> anyhow::Result<String> {
    let now = jiff::Timestamp::now();
    if json {
        let rows: Vec<serde_json::Value> = actions
            .iter()
            .map(|a| {
                let mut row = serde_json::to_value(a).expect("serialises");
                row["next_run"] = serde_json::json!(a.next_after(now).map(|t| t.to_string()));
                row
            })
            .collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
    }
    if actions.is_empty() {
        return Ok("No scheduled actions. Add one with `photoscale infra schedule add NAME --cron \"0 8 * * 1-5\" --min 3`.\n".into());
    }
    let mut out = String::new();
    for a in actions {
        let next = a
            .next_after(now)
            .map_or("never again".to_owned(), |t| t.to_string());
        out.push_str(&format!(
            "{:<20} {:<34} {:<28} next: {next}\n",
            a.name,
            a.when_text(),
            a.capacity_text()
        ));
    }
    Ok(out)
}

/// The AWS side, or how to get it.
#[cfg(feature = "aws")]
mod aws {
    use std::path::Path;

    use photoscale_infra::aws::schedules;
    use photoscale_infra::schedule::ScheduledAction;

    use crate::commands::infra::args::TargetArgs;

    pub async fn put(
        target: &TargetArgs,
        state_dir: &Path,
        actions: &[ScheduledAction],
    ) -> anyhow::Result<()> {
        let options = crate::commands::infra::aws::options(target, state_dir);
        Ok(schedules::put(&options, actions).await?)
    }

    pub async fn list(
        target: &TargetArgs,
        state_dir: &Path,
    ) -> anyhow::Result<Vec<ScheduledAction>> {
        let options = crate::commands::infra::aws::options(target, state_dir);
        Ok(schedules::list(&options).await?)
    }

    pub async fn remove(target: &TargetArgs, state_dir: &Path, name: &str) -> anyhow::Result<()> {
        let options = crate::commands::infra::aws::options(target, state_dir);
        Ok(schedules::remove(&options, name).await?)
    }
}

#[cfg(not(feature = "aws"))]
mod aws {
    use std::path::Path;

    use photoscale_infra::schedule::ScheduledAction;

    use crate::commands::infra::args::TargetArgs;
    use crate::commands::infra::aws::AWS_FEATURE_MISSING;

    pub async fn put(_: &TargetArgs, _: &Path, _: &[ScheduledAction]) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn list(_: &TargetArgs, _: &Path) -> anyhow::Result<Vec<ScheduledAction>> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn remove(_: &TargetArgs, _: &Path, _: &str) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }
}
