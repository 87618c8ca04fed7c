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
