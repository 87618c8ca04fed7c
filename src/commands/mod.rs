//! The `photoscale` command line: the clap definitions of every
//! subcommand, each run by a module of this folder. The web app itself is
//! the rest of `src/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod admin_client;
pub mod backup;
pub mod config;
pub mod data;
pub mod data_copy;
pub mod doctor;
pub mod fleet;
pub mod infra;
pub mod latency;
pub mod loadtest;
pub mod output;
pub mod parse;
pub mod s3_server;
pub mod serve;
pub mod settings;
pub mod tour;

use config::ConfigCommand;
use data::DataCommand;
use infra::args::StackArgs;
use infra::InfraCommand;
use latency::LatencyCommand;
use loadtest::command::LoadtestArgs;
use s3_server::S3ServerArgs;
use serve::ServeArgs;
use tour::TourArgs;

#[derive(Debug, Parser)]
#[command(
    name = "photoscale",
    version = crate::build_info::BUILD_ID,
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
    /// Stand up a level of the scaling ladder on this machine, inspect it, stop it
    Infra {
        #[command(subcommand)]
        command: InfraCommand,
    },
    /// Load a site with a mix of requests and report latency, errors and instances over time
    Loadtest(LoadtestArgs),
    /// Copy users and photos between two configurations (database and storage)
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Back up the configured database (with a manifest of its photos),
    /// list, restore and prune the backups
    Backup {
        #[command(subcommand)]
        command: backup::BackupCommand,
    },
    /// The local stack's S3-compatible server: objects in files under ROOT,
    /// every request signed with the key pair in PHOTOSCALE_S3_ACCESS_KEY_ID
    /// and PHOTOSCALE_S3_SECRET_ACCESS_KEY (`infra up` starts it at level 2+)
    S3Server(S3ServerArgs),
    /// Walk the whole ladder (levels 0 to 4) on this machine, showing each
    /// level working (and level 1 broken first), then stop everything
    Tour(TourArgs),
    /// Check what a level needs on this machine and say how to install what is missing
    Doctor {
        /// The level to check, 0 to 4
        #[arg(long, default_value_t = 0)]
        level: u8,
        #[command(flatten)]
        stack: StackArgs,
    },
}
