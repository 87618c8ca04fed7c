use std::process::ExitCode;

use clap::Parser;
use photoscale::cli::{Cli, Command, ConfigCommand};
use photoscale::configuration::{CliOverrides, ConfigSources, Settings};
use photoscale::startup::Application;
use photoscale::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let settings = load(cli.config, args.overrides)?;
            telemetry::init(settings.log.format, &settings.log.level);
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Config {
            command: ConfigCommand::Show(args),
        } => {
            let settings = load(cli.config, args.overrides)?;
            print!("{}", settings.to_redacted_toml());
        }
    }
    Ok(())
}

fn load(file: Option<std::path::PathBuf>, overrides: CliOverrides) -> anyhow::Result<Settings> {
    Ok(Settings::load(&ConfigSources { file, overrides })?)
}
