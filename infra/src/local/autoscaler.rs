//! The autoscaler of a level 3+ stack: a background process (`photoscale
//! infra autoscaler`, started by `up`) that feeds HAProxy's request log into
//! the state machine of `crate::autoscale` and carries out its decisions:
//! a new instance joins HAProxy only once its `/healthz` answers, and a
//! removed one is drained (its requests finish) before it gets SIGTERM.
//!
//! It writes what it did to `autoscaler/events.jsonl` (the activity
//! history) and what it thinks now to `autoscaler/snapshot.json` (desired
//! capacity, members, alarm states), which `infra status` and `infra events`
//! read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::builds;
use super::haproxy::admin_socket;
use super::haproxy::{response_time, RuntimeApi};
use super::health::{wait_for_healthz, Watched};
use super::instances::{self, address_of};
use super::process;
use super::schedules;
use super::state::{write_private, StateDir};
use super::{fingerprint, start_process, LocalError};
use crate::autoscale::group::{Action, Member};
use crate::autoscale::{Autoscaler, Event};
use crate::plan::Addresses;
use crate::spec::StackSpec;

/// What `up` hands the autoscaler: the spec and where everything listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignment {
    pub spec: StackSpec,
    pub addresses: Addresses,
    pub app_program: PathBuf,
}

/// The autoscaler's view, rewritten after every tick.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// Unix milliseconds.
    pub updated_at: u64,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub members: Vec<String>,
    /// (alarm name, OK | ALARM | INSUFFICIENT_DATA)
    pub alarms: Vec<(String, String)>,
}

/// An event as stored in `events.jsonl`: the state machine's event with its
/// text, so the history reads the same in every tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedEvent {
    /// Unix milliseconds.
    pub at: u64,
    pub text: String,
    pub detail: serde_json::Value,
}

pub fn assignment_path(root: &Path) -> PathBuf {
    root.join("autoscaler").join("assignment.json")
}

pub fn snapshot_path(root: &Path) -> PathBuf {
    root.join("autoscaler").join("snapshot.json")
}

pub fn events_path(root: &Path) -> PathBuf {
    root.join("autoscaler").join("events.jsonl")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs until killed.
pub async fn run(state_dir: &Path) -> Result<(), LocalError> {
    let dir = StateDir::open(state_dir)
        .ok_or_else(|| LocalError::Missing(format!("no stack state in {}", state_dir.display())))?;
    let text = std::fs::read_to_string(assignment_path(dir.root())).map_err(|source| {
        LocalError::StateDir {
            path: assignment_path(dir.root()),
            source,
        }
    })?;
    let assignment: Assignment = serde_json::from_str(&text)
        .map_err(|e| LocalError::CorruptState(assignment_path(dir.root()), e.to_string()))?;
    let scaling = assignment
        .spec
        .scaling
        .clone()
        .ok_or_else(|| LocalError::Missing("this level has no autoscaling".into()))?;
    let fleet = assignment.spec.fleet;
    let now = now_ms();
    let members: Vec<Member> = dir
        .load()?
        .instances
        .keys()
        .map(|id| Member {
            id: id.clone(),
            launched_at: now,
        })
        .collect();
    let mut scaler = Autoscaler::new(
        &scaling,
        fleet.min,
        fleet.max,
        members.len() as u32,
        members,
    );
    let status = serve_status(&assignment, &dir).await?;
    let api = RuntimeApi::new(admin_socket(&dir));
    let mut samples = follow_response_times(api.clone());
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    tracing::info!(
        instances = scaler.group.members.len(),
        "autoscaler watching the fleet"
    );
    let mut schedules_checked = jiff::Timestamp::now();
    loop {
        ticker.tick().await;
        while let Ok((at, ms)) = samples.try_recv() {
            scaler.record_response(at, ms);
        }
        // A deploy (or `up`) holds the stack: wait for it, then take the
        // members as it left them.
        if let Ok(_lock) = dir.lock() {
            sync_members(&dir, &mut scaler);
            schedules_checked = run_due_schedules(&dir, &mut scaler, schedules_checked);
            let down = reported_down(&api).await;
            let (actions, events) = scaler.tick(now_ms(), &down);
            log_events(&dir, &events);
            for action in actions {
                carry_out(&dir, &assignment, &api, &mut scaler, action).await;
            }
        }
        let snapshot = Snapshot {
            updated_at: now_ms(),
            min: scaler.group.config.min,
            max: scaler.group.config.max,
            desired: scaler.group.desired,
            members: scaler.group.members.iter().map(|m| m.id.clone()).collect(),
            alarms: scaler
                .alarm_states()
                .into_iter()
                .map(|(name, state)| (name, state.to_string()))
                .collect(),
        };
        let text = serde_json::to_string_pretty(&snapshot).expect("serialises");
        let _ = write_private(&snapshot_path(dir.root()), text.as_bytes());
        *status.lock().expect("not poisoned") = text;
    }
}

/// Runs the scheduled actions whose time came since `checked`; returns
/// the new "checked until". The launches they call for follow in this tick.
fn run_due_schedules(
    dir: &StateDir,
    scaler: &mut Autoscaler,
    checked: jiff::Timestamp,
) -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    let actions = match schedules::read(dir.root()) {
        Ok(actions) => actions,
        Err(e) => {
            tracing::warn!("scheduled actions not read: {e}");
            return now;
        }
    };
    for action in actions.iter().filter(|a| a.due(checked, now)) {
        let event = scaler.apply_scheduled(now_ms(), action);
        log_events(dir, &[event]);
    }
    now
}

/// Instances HAProxy's health checks report down (the ELB health check).
async fn reported_down(api: &RuntimeApi) -> Vec<String> {
    api.servers()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.status.starts_with("DOWN"))
        .map(|s| s.name)
        .collect()
}

/// Reads HAProxy's request ring in the background, stamping each response
/// time with when it arrived; reconnects if HAProxy restarts.
pub fn follow_response_times(api: RuntimeApi) -> mpsc::UnboundedReceiver<(u64, f64)> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            if let Ok(mut lines) = api.follow_requests().await {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some((_, ms)) = response_time(&line) {
                        if tx.send((now_ms(), ms)).is_err() {
                            return;
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    rx
}

fn log_events(dir: &StateDir, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let path = events_path(dir.root());
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    for event in events {
        let logged = LoggedEvent {
            at: event.at,
            text: event.what.to_string(),
            detail: serde_json::to_value(&event.what).unwrap_or_default(),
        };
        tracing::info!("{}", logged.text);
        let _ = writeln!(
            file,
            "{}",
            serde_json::to_string(&logged).expect("serialises")
        );
    }
}

/// Appends one event that the state machine did not make (an action's result).
fn log_result(dir: &StateDir, text: String) {
    let path = events_path(dir.root());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let logged = LoggedEvent {
            at: now_ms(),
            text,
            detail: serde_json::Value::Null,
        };
        tracing::info!("{}", logged.text);
        let _ = writeln!(
            file,
            "{}",
            serde_json::to_string(&logged).expect("serialises")
        );
    }
}

async fn carry_out(
    dir: &StateDir,
    assignment: &Assignment,
    api: &RuntimeApi,
    scaler: &mut Autoscaler,
    action: Action,
) {
    match action {
        Action::Launch { .. } => match launch(dir, assignment, api).await {
            Ok(id) => {
                log_result(
                    dir,
                    format!("{id} launched, healthy and in the load balancer"),
                );
                scaler.group.launched(id, now_ms());
            }
            Err(e) => log_result(dir, format!("launch failed: {e}")),
        },
        Action::Terminate { id, .. } => match terminate(dir, api, &id).await {
            Ok(()) => log_result(dir, format!("{id} drained and stopped")),
            Err(e) => log_result(dir, format!("terminating {id} failed: {e}")),
        },
    }
}

/// Takes the group's members from the state file: a deploy replaces
/// instances while the autoscaler waits. Known members keep their launch
/// time (and so their grace period).
fn sync_members(dir: &StateDir, scaler: &mut Autoscaler) {
    let Ok(state) = dir.load() else {
        return;
    };
    let now = now_ms();
    let members = &mut scaler.group.members;
    members.retain(|m| state.instances.contains_key(&m.id));
    for id in state.instances.keys() {
        if !members.iter().any(|m| &m.id == id) {
            members.push(Member {
                id: id.clone(),
                launched_at: now,
            });
        }
    }
}

/// Starts the lowest free instance id, waits for its health check, adds it.
async fn launch(dir: &StateDir, a: &Assignment, api: &RuntimeApi) -> Result<String, LocalError> {
    let mut state = dir.load()?;
    let id = (1..=a.spec.fleet.max)
        .map(instances::instance_id)
        .find(|id| !state.instances.contains_key(id))
        .ok_or_else(|| LocalError::Missing("no free instance slot".into()))?;
    let address = address_of(&id, &a.addresses).expect("a slot per instance up to max");
    let config_path = dir.dir("app").join("photoscale.toml");
    let config = std::fs::read_to_string(&config_path).unwrap_or_default();
    // The deployed build, never whatever binary is on disk now.
    let program = builds::deployed(dir).map_or_else(|| a.app_program.clone(), |d| d.program);
    let launch = instances::launch(&program, dir, &config_path, &id, address);
    let running = start_process(&id, &launch, address, fingerprint(&launch, &config))?;
    let pid = running.pid;
    state.instances.insert(id.clone(), running.clone());
    dir.save(&state)?;
    let watched = Watched {
        component: &id,
        pid,
        log: &running.log,
    };
    let lb = a
        .spec
        .load_balancer
        .as_ref()
        .expect("level 3 has a load balancer");
    let ready = async {
        wait_for_healthz(&watched, address, Duration::from_secs(60)).await?;
        api.join(&id, address, lb).await?;
        Ok::<(), LocalError>(())
    };
    if let Err(e) = ready.await {
        process::stop_child(pid, Duration::from_secs(10)).await;
        state.instances.remove(&id);
        dir.save(&state)?;
        return Err(e);
    }
    Ok(id)
}

/// Drains `id` in HAProxy, lets its requests finish, then stops it.
async fn terminate(dir: &StateDir, api: &RuntimeApi, id: &str) -> Result<(), LocalError> {
    let mut state = dir.load()?;
    api.retire(id).await?;
    if let Some(running) = state.instances.remove(id) {
        process::stop(&running, Duration::from_secs(30)).await;
    }
    dir.save(&state)
}

/// Answers every connection on the autoscaler's address with its snapshot
/// (a minimal HTTP response, so `curl` works), which also tells `status`
/// that it is alive.
async fn serve_status(
    assignment: &Assignment,
    dir: &StateDir,
) -> Result<std::sync::Arc<std::sync::Mutex<String>>, LocalError> {
    use tokio::io::AsyncWriteExt;
    let address = assignment
        .addresses
        .autoscaler
        .ok_or_else(|| LocalError::Missing("no address for the autoscaler".into()))?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| LocalError::StateDir {
            path: dir.root().to_owned(),
            source,
        })?;
    let shared = std::sync::Arc::new(std::sync::Mutex::new("{}".to_owned()));
    let body = shared.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let text = body.lock().expect("not poisoned").clone();
            let response = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    Ok(shared)
}

/// The autoscaler's last snapshot, if it has written one.
pub fn read_snapshot(root: &Path) -> Option<Snapshot> {
    let text = std::fs::read_to_string(snapshot_path(root)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The activity history, oldest first.
pub fn read_events(root: &Path) -> Vec<LoggedEvent> {
    std::fs::read_to_string(events_path(root))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}
