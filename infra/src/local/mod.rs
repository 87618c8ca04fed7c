//! The local provider: makes a `StackSpec` real with processes on this
//! machine (HAProxy, MariaDB, memcached, Redis, an S3 server, app instances),
//! all on loopback, all under one state directory.
//!
//! `up` reconciles what runs with what the spec wants (so running it twice
//! changes nothing), `status` reads it back, `down` stops everything `up`
//! started, and `logs` shows what each component wrote.

pub mod autoscaler;
pub mod builds;
mod deploy;
mod down;
pub mod haproxy;
mod health;
pub mod instances;
mod kill;
mod logs;
mod moto_migration;
mod process;
pub mod schedules;
pub mod services;
mod start_time;
pub mod state;
mod status;
mod up;

use std::path::PathBuf;

pub use deploy::{deploy, DeployOptions, DeployReport};
pub use down::{down, DownReport};
pub use kill::kill_instance;
pub use logs::{logs, LogsOptions};
pub use status::{status, ComponentStatus, Health, InstanceStatus, StatusReport};
pub use up::{up, UpOptions, UpReport};

/// The load balancer's response times (Unix ms, Tr in ms) as requests
/// finish, for live views; reconnects when HAProxy restarts.
pub fn response_times(
    state_dir: &std::path::Path,
) -> tokio::sync::mpsc::UnboundedReceiver<(u64, f64)> {
    let socket = state_dir.join("haproxy").join("admin.sock");
    autoscaler::follow_response_times(haproxy::RuntimeApi::new(socket))
}

/// The default state directory, relative to where `infra` runs.
pub const DEFAULT_STATE_DIR: &str = ".photoscale";

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{0}")]
    Missing(String),
    #[error("cannot use the state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not empty and was not made by photoscale\n  fix: choose another --state-dir, or an empty directory")]
    NotAStateDir(PathBuf),
    #[error("the state file {0} cannot be read: {1}\n  fix: photoscale cannot tell what this stack runs; list its programs with `pgrep -af <state directory>` (their command lines name it), stop them, then remove the state directory")]
    CorruptState(PathBuf, String),
    #[error("another `photoscale infra` command is working on {0}\n  fix: wait for it to finish")]
    Busy(PathBuf),
    #[error("{address} is already in use by a program this stack did not start, so {component} cannot listen there\n  fix: stop that program, or choose other ports with --port (every port of the stack follows it)")]
    PortTaken {
        component: String,
        address: std::net::SocketAddrV4,
    },
    #[error("cannot start {program} for {component}: {source}")]
    Spawn {
        component: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{component} exited while starting; the end of its log ({log}):\n{tail}", log = log.display())]
    Exited {
        component: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{component} did not become ready: still waiting for {waiting_for}; the end of its log ({log}):\n{tail}", log = log.display())]
    NotReady {
        component: String,
        waiting_for: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{what} failed:\n{output}")]
    Command { what: String, output: String },
    #[error(transparent)]
    RuntimeApi(#[from] haproxy::RuntimeApiError),
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    #[error(
        "{0} still listen after `down`: {1}\n  fix: find the program with `ss -ltnp` and stop it"
    )]
    StillListening(usize, String),
}

/// The spec of the stack running from `state_dir`, if one runs.
pub fn running_spec(state_dir: &std::path::Path) -> Result<Option<crate::StackSpec>, LocalError> {
    let Some(dir) = state::StateDir::open(state_dir) else {
        return Ok(None);
    };
    let state = dir.load()?;
    let runs = !state.components.is_empty() || !state.instances.is_empty();
    Ok(state.spec.filter(|_| runs))
}

/// Where the running instances of a stack listen, and their admin token.
pub struct InstanceEndpoints {
    pub admin_token: String,
    pub instances: Vec<(String, std::net::SocketAddrV4)>,
}

/// The instances of the stack running from `state_dir`.
pub fn instance_endpoints(state_dir: &std::path::Path) -> Result<InstanceEndpoints, LocalError> {
    let dir = state::StateDir::open(state_dir).ok_or_else(|| {
        LocalError::Missing(format!(
            "no stack runs from {}\n  fix: start one with `photoscale infra up --level N`, or pass --state-dir",
            state_dir.display()
        ))
    })?;
    let state = dir.load()?;
    Ok(InstanceEndpoints {
        admin_token: dir.secrets()?.admin_token,
        instances: state
            .instances
            .iter()
            .map(|(id, running)| (id.clone(), running.address))
            .collect(),
    })
}

/// Starts `launch` for `name`, after checking that nobody else holds
/// `address` (a clear error instead of a program failing to bind).
fn start_process(
    name: &str,
    launch: &process::Launch,
    address: std::net::SocketAddrV4,
    fingerprint: String,
) -> Result<state::Running, LocalError> {
    if std::net::TcpListener::bind(address).is_err() {
        return Err(LocalError::PortTaken {
            component: name.to_owned(),
            address,
        });
    }
    let pid = launch.spawn().map_err(|source| LocalError::Spawn {
        component: name.to_owned(),
        program: launch.program.display().to_string(),
        source,
    })?;
    Ok(state::Running {
        program: launch.program_name(),
        pid,
        // Read at once: the child exists (unreaped) until we exit.
        started: start_time::StartTime::of(pid),
        address,
        fingerprint,
        log: launch.log.clone(),
    })
}

/// A digest of how a program is started (and of any configuration file it
/// reads): a different digest means the running one must be replaced.
fn fingerprint(launch: &process::Launch, extra: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(launch.program.as_os_str().as_encoded_bytes());
    for arg in &launch.args {
        hash.update([0]);
        hash.update(arg.as_bytes());
    }
    for (name, value) in &launch.env {
        hash.update([1]);
        hash.update(name.as_bytes());
        hash.update(value.as_bytes());
    }
    hash.update([2]);
    hash.update(extra.as_bytes());
    hex::encode(&hash.finalize()[..12])
}
