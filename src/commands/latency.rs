//! `photoscale latency get|set`: an instance's simulated latency, read or
//! changed through its admin endpoint.

use clap::Subcommand;

use super::admin_client::AdminClient;
use super::infra::args::StateDirArg;
use super::parse::parse_duration;

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
    /// An instance of the local stack (i-1, i-2, ...) instead of --url; repeatable
    #[arg(long = "instance", value_name = "ID", conflicts_with = "url")]
    pub instances: Vec<String>,
    /// Every instance of the local stack
    #[arg(long, conflicts_with_all = ["url", "instances"])]
    pub all: bool,
    /// The local stack (with --instance or --all)
    #[command(flatten)]
    pub stack: StateDirArg,
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

pub async fn run(
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
    let settings = super::settings::load(config, Default::default())?;
    match settings.admin.token {
        Some(token) => Ok(token.expose_secret().to_owned()),
        None => anyhow::bail!(
            "no admin token given\n  fix: pass --token TOKEN, set PHOTOSCALE_ADMIN__TOKEN, or set admin.token in the configuration file"
        ),
    }
}
