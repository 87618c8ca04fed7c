//! Processes the benchmark starts: each logs to its own file in the work
//! directory, runs in a process group of its own, and is stopped with its
//! whole group (nginx's workers too) when its handle is dropped, so an early
//! error leaves nothing running.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

pub struct Running {
    pub name: String,
    child: Child,
    pub log: PathBuf,
}

impl Running {
    /// Starts `command` with stdout and stderr going to `<logs>/<name>.log`.
    pub fn start(name: &str, mut command: Command, logs: &Path) -> anyhow::Result<Self> {
        let log = logs.join(format!("{name}.log"));
        let file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .process_group(0)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Waits until `url` answers 200, or fails with the end of the log.
    pub async fn wait_ready(&mut self, url: &str, timeout: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    tail(&self.log)
                );
            }
            if let Ok(response) = client.get(url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if started.elapsed() > timeout {
                bail!(
                    "{} did not answer {url} within {timeout:?}:\n{}",
                    self.name,
                    tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM to the group (nginx's master stops its workers), then
    /// SIGKILL for whatever is left after two seconds.
    pub async fn stop(mut self) {
        self.signal_group(libc::SIGTERM);
        let exited = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        if exited.is_err() {
            self.signal_group(libc::SIGKILL);
            let _ = self.child.wait().await;
        }
    }

    fn signal_group(&self, signal: libc::c_int) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a negative pid signals that process group,
            // the one this child leads (`process_group(0)` above).
            unsafe {
                libc::kill(-(pid as libc::pid_t), signal);
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal_group(libc::SIGKILL);
    }
}

/// The last lines of a log, for error messages.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Resident memory of `pid` in MiB, from /proc.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
