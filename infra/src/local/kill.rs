//! Killing one instance on purpose, as a crash would (SIGKILL, no chance to
//! drain): what the fleet view's "kill" button and the tour do to show the
//! load balancer and the autoscaler at work.

use std::path::Path;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::process::is_ours;
use super::state::StateDir;
use super::LocalError;

/// SIGKILLs instance `id` of the stack in `state_dir` (its process group:
/// each instance leads its own) and returns the pid it had. Refuses an id
/// the stack does not run and a pid that is no longer the instance's.
pub fn kill_instance(state_dir: &Path, id: &str) -> Result<u32, LocalError> {
    let dir = StateDir::open(state_dir).ok_or_else(|| {
        LocalError::Missing(format!("no stack runs from {}", state_dir.display()))
    })?;
    let state = dir.load()?;
    let running = state.instances.get(id).ok_or_else(|| {
        let known: Vec<&str> = state.instances.keys().map(String::as_str).collect();
        LocalError::Missing(format!(
            "the stack runs no instance {id:?}; it runs {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ))
    })?;
    if !is_ours(running) {
        return Err(LocalError::Missing(format!(
            "{id} has already stopped (pid {} is gone)",
            running.pid
        )));
    }
    killpg(Pid::from_raw(running.pid as i32), Signal::SIGKILL).map_err(|e| {
        LocalError::Missing(format!("could not kill {id} (pid {}): {e}", running.pid))
    })?;
    Ok(running.pid)
}
