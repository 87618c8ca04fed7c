//! `photoscale serve`: the web app.

use std::path::PathBuf;

use crate::configuration::CliOverrides;
use crate::startup::Application;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub overrides: CliOverrides,
}

pub async fn run(args: ServeArgs, config: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = super::settings::load(config, args.overrides)?;
    let _logs = crate::telemetry::init(settings.log.format, &settings.log.level);
    // Whatever the server creates (database, photos, key, temporary
    // uploads) is its owner's alone.
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe { libc::umask(0o077) };
    crate::memory::keep_giving_memory_back();
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}
