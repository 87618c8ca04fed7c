//! The `photoscale` program: parses the command line and runs the
//! subcommand (each in `src/commands/`).

use std::process::ExitCode;

use clap::Parser;
use photoscale::commands::{self, Cli, Command};

fn main() -> ExitCode {
    photoscale::memory::give_large_blocks_back();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command {
        Command::Serve(args) => commands::serve::run(args, config).await,
        Command::Config { command } => commands::config::run(command, config),
        Command::Latency { command } => commands::latency::run(config, command).await,
        Command::Infra { command } => commands::infra::run(command, config).await,
        Command::Data { command } => commands::data::run(command).await,
        Command::Loadtest(args) => commands::loadtest::command::run(args).await,
        Command::Backup { command } => commands::backup::run(command, config).await,
        Command::Tour(args) => commands::tour::run(args).await,
        Command::S3Server(args) => commands::s3_server::run(args).await,
        Command::Doctor { level, stack } => commands::doctor::run(level, &stack, config),
    }
}
