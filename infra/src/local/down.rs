//! `infra down`: stop everything the stack started (the load balancer first,
//! so no new request reaches a stopping instance; the databases last), check
//! that none of its ports still listens, and with `--purge` delete the data.

use std::path::Path;
use std::time::Duration;

use super::health::port_open;
use super::process::{self, Stopped};
use super::services::Service;
use super::state::StateDir;
use super::LocalError;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DownReport {
    /// What was stopped, in order, with how.
    pub stopped: Vec<String>,
    /// Recorded as running but already gone (crashed).
    pub already_gone: Vec<String>,
    pub purged: bool,
}

pub async fn down(state_dir: &Path, purge: bool) -> Result<DownReport, LocalError> {
    let mut report = DownReport::default();
    let Some(dir) = StateDir::open(state_dir) else {
        return Ok(report);
    };
    {
        let _lock = dir.lock_waiting(Duration::from_secs(60)).await?;
        let mut state = dir.load()?;
        let mut order: Vec<(String, super::state::Running)> = Vec::new();
        // The autoscaler first, so it does not replace what stops next.
        if let Some(autoscaler) = state.components.remove("autoscaler") {
            order.push(("autoscaler".into(), autoscaler));
        }
        if let Some(lb) = state.components.remove("haproxy") {
            order.push(("haproxy".into(), lb));
        }
        order.extend(std::mem::take(&mut state.instances));
        for service in Service::ALL.iter().rev() {
            if let Some(running) = state.components.remove(service.name()) {
                order.push((service.name().into(), running));
            }
        }
        // Anything else recorded (from a newer photoscale) goes too.
        order.extend(std::mem::take(&mut state.components));

        let addresses: Vec<_> = order.iter().map(|(_, r)| r.address).collect();
        for (name, running) in order {
            match process::stop(&running, Duration::from_secs(15)).await {
                Stopped::WasNotRunning => report.already_gone.push(name),
                Stopped::Gracefully => report.stopped.push(name),
                Stopped::Killed => report.stopped.push(format!("{name} (killed)")),
            }
            // Saved as it goes: an interrupted `down` can be run again.
            dir.save(&state)?;
        }
        still_listening(&addresses).await?;
    }
    if purge {
        dir.purge()?;
        report.purged = true;
    }
    Ok(report)
}

/// Fails when any of `addresses` still accepts connections after a moment.
async fn still_listening(addresses: &[std::net::SocketAddrV4]) -> Result<(), LocalError> {
    let mut open = Vec::new();
    for _ in 0..20 {
        open.clear();
        for address in addresses {
            if port_open(*address).await {
                open.push(address.to_string());
            }
        }
        if open.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(LocalError::StillListening(open.len(), open.join(", ")))
}
