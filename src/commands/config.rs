//! `photoscale config show`: the effective configuration, secrets redacted.

use std::path::PathBuf;

use clap::Subcommand;

use super::serve::ServeArgs;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (all layers merged), secrets redacted
    Show(ServeArgs),
}

pub fn run(command: ConfigCommand, config: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show(args) => {
            let settings = super::settings::load(config, args.overrides)?;
            print!("{}", settings.to_redacted_toml());
        }
    }
    Ok(())
}
