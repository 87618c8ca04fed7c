//! `infra status`: what the state directory says runs, checked against what
//! really runs. A component that crashed is reported as such, not hidden.

use std::fmt::Write;
use std::net::SocketAddrV4;
use std::path::Path;

use serde::Serialize;

use super::haproxy::admin_socket;
use super::haproxy::{RuntimeApi, ServerStatus};
use super::health::{client, healthz_build, port_open};
use super::process::is_ours;
use super::state::{Running, StateDir};
use super::LocalError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Running and answering.
    Healthy,
    /// The process runs but does not answer (or its health check fails).
    Unhealthy,
    /// The process is gone.
    Crashed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub address: SocketAddrV4,
    pub pid: u32,
    pub health: Health,
    pub log: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub address: SocketAddrV4,
    pub pid: u32,
    pub health: Health,
    /// What the load balancer thinks: UP, DOWN, MAINT, DRAIN...
    pub load_balancer: Option<String>,
    /// The simulated latency, in ms (None when the instance does not answer).
    pub latency_ms: Option<u64>,
    /// The build it runs, from its `/healthz` (None when it does not answer).
    pub build: Option<String>,
    pub log: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// False when nothing runs from this state directory.
    pub running: bool,
    pub state_dir: String,
    pub level: Option<u8>,
    pub url: Option<String>,
    pub components: Vec<ComponentStatus>,
    pub instances: Vec<InstanceStatus>,
    /// The autoscaler's view (level 3 and up): desired capacity, alarms.
    pub autoscaling: Option<super::autoscaler::Snapshot>,
}

impl StatusReport {
    /// Names of everything that is not healthy.
    pub fn problems(&self) -> Vec<String> {
        let components = self
            .components
            .iter()
            .filter(|c| c.health != Health::Healthy)
            .map(|c| format!("{} ({:?})", c.name, c.health).to_lowercase());
        let instances = self
            .instances
            .iter()
            .filter(|i| i.health != Health::Healthy)
            .map(|i| format!("{} ({:?})", i.id, i.health).to_lowercase());
        components.chain(instances).collect()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.running {
            let _ = writeln!(
                out,
                "No stack runs from {}.\n  start one with: photoscale infra up --level N",
                self.state_dir
            );
            return out;
        }
        let _ = writeln!(
            out,
            "Level {} stack ({}): {}",
            self.level.map(|l| l.to_string()).unwrap_or("?".into()),
            self.state_dir,
            self.url.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            out,
            "  {:<11} {:<10} {:<21} {:>8}",
            "COMPONENT", "HEALTH", "ADDRESS", "PID"
        );
        for c in &self.components {
            let _ = writeln!(
                out,
                "  {:<11} {:<10} {:<21} {:>8}",
                c.name,
                health_text(c.health),
                c.address,
                c.pid
            );
        }
        let _ = writeln!(
            out,
            "  {:<11} {:<10} {:<21} {:>8}  {:<8} {:<9} BUILD",
            "INSTANCE", "HEALTH", "ADDRESS", "PID", "LB", "LATENCY"
        );
        for i in &self.instances {
            let latency = i
                .latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  {:<11} {:<10} {:<21} {:>8}  {:<8} {latency:<9} {}",
                i.id,
                health_text(i.health),
                i.address,
                i.pid,
                i.load_balancer.as_deref().unwrap_or("-"),
                i.build.as_deref().unwrap_or("-"),
            );
        }
        if let Some(a) = &self.autoscaling {
            let alarms: Vec<String> = a.alarms.iter().map(|(n, s)| format!("{n} {s}")).collect();
            let _ = writeln!(
                out,
                "  autoscaling: desired {} (min {}, max {}), running {}; alarms: {}",
                a.desired,
                a.min,
                a.max,
                self.instances.len(),
                alarms.join(", ")
            );
        }
        for problem in self.problems() {
            let _ = writeln!(
                out,
                "  problem: {problem}: see `photoscale infra logs {}`",
                problem.split(' ').next().unwrap_or("")
            );
        }
        out
    }
}

fn health_text(health: Health) -> &'static str {
    match health {
        Health::Healthy => "healthy",
        Health::Unhealthy => "UNHEALTHY",
        Health::Crashed => "CRASHED",
    }
}

pub async fn status(state_dir: &Path) -> Result<StatusReport, LocalError> {
    let mut report = StatusReport {
        running: false,
        state_dir: state_dir.display().to_string(),
        level: None,
        url: None,
        components: Vec::new(),
        instances: Vec::new(),
        autoscaling: None,
    };
    let Some(dir) = StateDir::open(state_dir) else {
        return Ok(report);
    };
    let state = dir.load()?;
    report.running = !state.components.is_empty() || !state.instances.is_empty();
    report.level = state.spec.as_ref().map(|s| s.level);
    report.url = state.entry.map(|e| format!("http://{e}"));
    for (name, running) in &state.components {
        report.components.push(ComponentStatus {
            name: name.clone(),
            address: running.address,
            pid: running.pid,
            health: component_health(running).await,
            log: running.log.display().to_string(),
        });
    }
    if state.components.contains_key("autoscaler") {
        report.autoscaling = super::autoscaler::read_snapshot(dir.root());
    }
    let lb_view = load_balancer_view(&dir, &state).await;
    let token = dir.secrets()?.admin_token;
    for (id, running) in &state.instances {
        report
            .instances
            .push(instance_status(id, running, &lb_view, &token).await);
    }
    Ok(report)
}

async fn component_health(running: &Running) -> Health {
    if !is_ours(running) {
        Health::Crashed
    } else if port_open(running.address).await {
        Health::Healthy
    } else {
        Health::Unhealthy
    }
}

async fn load_balancer_view(dir: &StateDir, state: &super::state::StackState) -> Vec<ServerStatus> {
    let Some(haproxy) = state.components.get("haproxy") else {
        return Vec::new();
    };
    if !is_ours(haproxy) {
        return Vec::new();
    }
    RuntimeApi::new(admin_socket(dir))
        .servers()
        .await
        .unwrap_or_default()
}

async fn instance_status(
    id: &str,
    running: &Running,
    lb_view: &[ServerStatus],
    token: &str,
) -> InstanceStatus {
    let http = client();
    let alive = is_ours(running);
    let (passes, build) = if alive {
        healthz_build(&http, &format!("http://{}/healthz", running.address)).await
    } else {
        (false, None)
    };
    let health = match (alive, passes) {
        (false, _) => Health::Crashed,
        (true, true) => Health::Healthy,
        (true, false) => Health::Unhealthy,
    };
    let latency_ms = if alive {
        latency_of(&http, running.address, token).await
    } else {
        None
    };
    InstanceStatus {
        id: id.to_owned(),
        address: running.address,
        pid: running.pid,
        health,
        load_balancer: lb_view
            .iter()
            .find(|s| s.name == id)
            .map(|s| s.status.clone()),
        latency_ms,
        build,
        log: running.log.display().to_string(),
    }
}

/// The instance's simulated latency, from its admin API.
async fn latency_of(http: &reqwest::Client, address: SocketAddrV4, token: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Latency {
        latency_ms: u64,
    }
    let response = http
        .get(format!("http://{address}/admin/latency"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    response.json::<Latency>().await.ok().map(|l| l.latency_ms)
}
