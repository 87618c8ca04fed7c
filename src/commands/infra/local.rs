//! `infra` on this machine: the local provider of photoscale-infra, its
//! reports printed.

use std::path::Path;

use photoscale_infra::local;
use photoscale_infra::plan::{self, Addresses};
use photoscale_infra::spec::{StackSpec, Target};

use super::args::StackArgs;
use crate::commands::output::print_stdout;

pub async fn up(
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
        let view =
            crate::commands::fleet::describe_view(&options.state_dir, fleet.into(), control_link);
        eprint!("{view}");
    }
    print_stdout(&format!("{}\n", report.url));
    Ok(())
}

pub async fn deploy(options: local::DeployOptions) -> anyhow::Result<()> {
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

pub async fn status(state_dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
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

pub fn events(state_dir: &Path, json: bool) -> anyhow::Result<()> {
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

pub async fn down(state_dir: &std::path::Path, purge: bool) -> anyhow::Result<()> {
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

pub fn spec_for(level: u8, stack: &StackArgs) -> anyhow::Result<(StackSpec, Addresses)> {
    let overrides = stack.overrides();
    let spec = StackSpec::for_level(level, Target::Local, &overrides)?;
    let addresses = Addresses::for_spec(&spec, spec.entry_port(&overrides));
    Ok((spec, addresses))
}

/// `photoscale infra plan`: what would run, without starting anything.
pub fn plan(level: u8, stack: &StackArgs, state_dir: &Path, json: bool) -> anyhow::Result<()> {
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
