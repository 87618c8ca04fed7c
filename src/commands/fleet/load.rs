//! A load the person at the fleet view starts and stops: `photoscale
//! loadtest` at a fixed rate (open loop) against the stack's entry, run as a
//! child of the fleet view. The child stays in the view's process group, so
//! `infra down` (which stops the view's group) and Ctrl-C on `infra fleet`
//! stop the load too; a forgotten load also ends by itself after `LONGEST`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The highest rate the view offers: far above what the stack needs to
/// scale out (a few tens), far below what would starve this machine.
pub const MAX_RATE: u32 = 500;
/// A load nobody stops ends after this long.
pub const LONGEST: Duration = Duration::from_secs(30 * 60);

/// What the view shows about the load.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoadState {
    pub rate: u32,
    /// Unix milliseconds.
    pub since: u64,
}

struct Running {
    child: Child,
    state: LoadState,
}

#[derive(Default)]
pub struct Load {
    running: Mutex<Option<Running>>,
}

impl Load {
    /// Starts `rate` requests a second at `url`, replacing a load that runs.
    /// Blocking (a fork and exec): call it off the runtime.
    pub fn start(&self, state_dir: &Path, url: &str, rate: u32) -> std::io::Result<LoadState> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = running.take() {
            end(old);
        }
        let dir = state_dir.join("fleet");
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("load.log"))?;
        let child = Command::new(std::env::current_exe()?)
            .args(["loadtest", "--url", url, "--rate", &rate.to_string()])
            .args(["--duration", &format!("{}s", LONGEST.as_secs())])
            // Pages and photos only: a load left running fills no disk.
            .args(["--mix", "feed=85,photo=15", "--out"])
            .arg(dir.join("load"))
            .arg("--state-dir")
            .arg(state_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let state = LoadState {
            rate,
            since: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        };
        *running = Some(Running {
            child,
            state: state.clone(),
        });
        Ok(state)
    }

    /// Stops the load; false when none ran. Blocking: call it off the runtime.
    pub fn stop(&self) -> bool {
        let taken = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        taken.map(end).is_some()
    }

    /// The load that runs now, if any (a load that ended is reaped here).
    pub fn current(&self) -> Option<LoadState> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let ended = running
            .as_mut()
            .is_some_and(|r| !matches!(r.child.try_wait(), Ok(None)));
        if ended {
            *running = None;
        }
        running.as_ref().map(|r| r.state.clone())
    }

    /// Where the load writes what it saw.
    pub fn log(state_dir: &Path) -> PathBuf {
        state_dir.join("fleet").join("load.log")
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGKILL and reap: a load test keeps nothing worth a graceful end.
fn end(mut running: Running) {
    let _ = running.child.kill();
    let _ = running.child.wait();
}
