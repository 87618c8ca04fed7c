use std::process::ExitCode;

use clap::Parser;
use photoscale::admin_client::AdminClient;
use photoscale::cli::{AdminTarget, Cli, Command, ConfigCommand, DataCommand, LatencyCommand};
use photoscale::configuration::{CliOverrides, ConfigSources, Settings};
use photoscale::startup::Application;
use photoscale::telemetry;

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
    match cli.command {
        Command::Serve(args) => {
            let settings = load(cli.config, args.overrides)?;
            let _logs = telemetry::init(settings.log.format, &settings.log.level);
            // Whatever the server creates (database, photos, key, temporary
            // uploads) is its owner's alone.
            // SAFETY: umask only sets the process's file-creation mask.
            unsafe { libc::umask(0o077) };
            photoscale::memory::keep_giving_memory_back();
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Config {
            command: ConfigCommand::Show(args),
        } => {
            let settings = load(cli.config, args.overrides)?;
            print!("{}", settings.to_redacted_toml());
        }
        Command::Latency { command } => latency(cli.config, command).await?,
        Command::Infra { command } => photoscale::infra_cmd::run(command, cli.config).await?,
        Command::Data {
            command:
                DataCommand::Copy {
                    from,
                    from_data_dir,
                    to,
                    to_data_dir,
                },
        } => {
            let source = load_with_data_dir(from, from_data_dir)?;
            let target = load_with_data_dir(to, to_data_dir)?;
            let report = photoscale::data_copy::copy(&source, &target).await?;
            println!("{report}");
        }
        Command::Loadtest(args) => loadtest(args).await?,
        Command::Backup { command } => photoscale::backup_cmd::run(command, cli.config).await?,
        Command::Tour(args) => {
            photoscale::tour::run(photoscale::tour::TourOptions {
                auto: args.auto,
                install: args.install,
                keep: args.keep,
                port: args.port,
                state_dir: args.state_dir,
                out: args.out,
            })
            .await?
        }
        Command::S3Server(args) => {
            let _logs = telemetry::init(photoscale::configuration::LogFormat::Text, "info");
            if let Some(source) = &args.import_from {
                return photoscale::s3_server::import(source, &args.root, &args.buckets).await;
            }
            let (access_key, secret_key) =
                photoscale::s3_server::S3ServerOptions::keys_from_environment()?;
            photoscale::s3_server::serve(photoscale::s3_server::S3ServerOptions {
                listen: args.listen,
                root: args.root,
                buckets: args.buckets,
                access_key,
                secret_key,
            })
            .await?;
        }
        Command::Doctor { level, stack } => {
            let stack = photoscale::infra_cmd::with_config_file(&stack, cli.config)?;
            if !photoscale::infra_cmd::doctor(level, &stack)? {
                anyhow::bail!(
                    "level {level} cannot run on this machine yet: fix what the report above lists"
                );
            }
        }
    }
    Ok(())
}

async fn loadtest(args: photoscale::cli::LoadtestArgs) -> anyhow::Result<()> {
    use photoscale::loadtest::{self, Arrivals};
    let arrivals = match (args.concurrency, args.rate) {
        (_, Some(0)) | (Some(0), _) => {
            anyhow::bail!("--rate and --concurrency must be at least 1")
        }
        (_, Some(rate)) => Arrivals::Open { rate },
        (concurrency, None) => Arrivals::Closed {
            concurrency: concurrency.unwrap_or(8),
        },
    };
    let mix = match &args.path {
        Some(_) => loadtest::mix::Mix::single(loadtest::mix::Kind::Get),
        None => args.mix,
    };
    let options = loadtest::Options {
        url: args.url,
        duration: args.duration,
        arrivals,
        mix,
        path: args.path,
        log_in: args.log_in,
        flips: args.flips,
        state_dir: args.stack.state_dir,
    };
    let report = loadtest::run(&options).await?;
    print!("{}", report.render_text());
    let files = report.write(&args.out)?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    println!("wrote {}", names.join(", "));
    Ok(())
}

async fn latency(
    config: Option<std::path::PathBuf>,
    command: LatencyCommand,
) -> anyhow::Result<()> {
    let (target, new_latency) = match command {
        LatencyCommand::Get(target) => (target, None),
        LatencyCommand::Set { latency, target } => (target, Some(latency)),
    };
    for (url, token) in admin_endpoints(config, &target)? {
        let client = AdminClient::new(&url, token)?;
        let report = match new_latency {
            Some(latency) => client.set_latency(latency).await?,
            None => client.get_latency().await?,
        };
        println!(
            "{} ({}): latency {}",
            report.instance_id, report.address, report.latency
        );
    }
    Ok(())
}

/// (URL, admin token) of each instance `target` names: `--url`, or
/// instances of the local stack (`--instance ID`, `--all`), whose token the
/// stack keeps.
fn admin_endpoints(
    config: Option<std::path::PathBuf>,
    target: &AdminTarget,
) -> anyhow::Result<Vec<(String, String)>> {
    if target.instances.is_empty() && !target.all {
        return Ok(vec![(target.url.clone(), admin_token(config, target)?)]);
    }
    let stack = photoscale_infra::local::instance_endpoints(&target.stack.state_dir)?;
    let mut chosen = Vec::new();
    for id in &target.instances {
        let Some((_, address)) = stack.instances.iter().find(|(i, _)| i == id) else {
            let known: Vec<&str> = stack.instances.iter().map(|(i, _)| i.as_str()).collect();
            anyhow::bail!(
                "the stack in {} has no instance {id:?}\n  fix: choose one of: {}",
                target.stack.state_dir.display(),
                known.join(", ")
            );
        };
        chosen.push(*address);
    }
    if target.all {
        chosen.extend(stack.instances.iter().map(|(_, a)| *a));
    }
    Ok(chosen
        .into_iter()
        .map(|a| (format!("http://{a}"), stack.admin_token.clone()))
        .collect())
}

/// `--token` / `PHOTOSCALE_ADMIN__TOKEN`, else `admin.token` from the config file.
fn admin_token(config: Option<std::path::PathBuf>, target: &AdminTarget) -> anyhow::Result<String> {
    use secrecy::ExposeSecret;
    if let Some(token) = &target.token {
        return Ok(token.clone());
    }
    let settings = load(config, CliOverrides::default())?;
    match settings.admin.token {
        Some(token) => Ok(token.expose_secret().to_owned()),
        None => anyhow::bail!(
            "no admin token given\n  fix: pass --token TOKEN, set PHOTOSCALE_ADMIN__TOKEN, or set admin.token in the configuration file"
        ),
    }
}

fn load_with_data_dir(
    file: std::path::PathBuf,
    data_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<Settings> {
    let overrides = CliOverrides {
        data_dir,
        ..Default::default()
    };
    load(Some(file), overrides)
}

fn load(file: Option<std::path::PathBuf>, overrides: CliOverrides) -> anyhow::Result<Settings> {
    let sources = ConfigSources { file, overrides };
    photoscale::configuration::warn_if_parent_config_ignored(&sources);
    Ok(Settings::load(&sources)?)
}
