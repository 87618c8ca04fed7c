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
    /// Read or change a running instance's simulated latency
    Latency {
        #[command(subcommand)]
        command: LatencyCommand,
    },
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
