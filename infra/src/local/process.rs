//! Background processes. Each component is started detached (its own process
//! group, output appended to a log file) so it outlives `infra up`, and is
//! found again later by pid. Before signalling a pid we check that it is
//! still the process we started: pids are reused (after a reboot, or once
//! the counter wraps), and `infra down` must stop what it started and
//! nothing else. A process is known by its pid plus its start time and the
//! boot it started in, which no other process shares.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::start_time::StartTime;
use super::state::Running;

/// How to start one program.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

impl Launch {
    pub fn new(program: PathBuf, log: PathBuf) -> Self {
        Self {
            program,
            args: Vec::new(),
            env: Vec::new(),
            log,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// The name `is_running` looks for in the process's command line.
    pub fn program_name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Starts the program in the background and returns its pid.
    pub fn spawn(&self) -> std::io::Result<u32> {
        use std::os::unix::process::CommandExt;
        if let Some(dir) = self.log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: Ctrl-C on `infra up` does not reach it,
            // and `stop` can signal the program and any helpers it forked.
            .process_group(0)
            .spawn()?;
        Ok(child.id())
    }
}

/// True when `running` is still the very process the stack started: alive,
/// and started at the recorded time in this boot. A state file written
/// before start times were recorded has only the program's name to go by.
pub fn is_ours(running: &Running) -> bool {
    if !is_alive(running.pid) {
        return false;
    }
    match &running.started {
        Some(started) => StartTime::of(running.pid).as_ref() == Some(started),
        None => is_running(running.pid, &running.program),
    }
}

/// True when `pid` exists and has not exited (a zombie has).
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name: "Z" is a zombie.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|s| s.trim().chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}

/// True when `pid` is alive and its command line names `program`. Only
/// meaningful once a program has started: while a launcher (such as pyenv's
/// shim) execs the real program, the name can briefly be missing.
pub fn is_running(pid: u32, program: &str) -> bool {
    if !is_alive(pid) {
        return false;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    // Some servers rename themselves (redis-server sets its title to
    // "redis-server 127.0.0.1:6379"), so the short name counts too.
    let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    if comm.trim_end() == &program[..program.len().min(15)] {
        return true;
    }
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    // The program, an interpreter and its script, or a launcher such as
    // pyenv's shim that names it further on.
    cmdline.split(|b| *b == 0).any(|arg| {
        let arg = String::from_utf8_lossy(arg);
        let first = arg.split(' ').next().unwrap_or_default();
        Path::new(first)
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == program)
    })
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It had already exited (or the pid now belongs to someone else).
    WasNotRunning,
    /// It exited after SIGTERM.
    Gracefully,
    /// It ignored SIGTERM for `grace` and was killed.
    Killed,
}

/// Stops the process group `running` leads, if it is still ours.
pub async fn stop(running: &Running, grace: Duration) -> Stopped {
    if !is_ours(running) {
        return Stopped::WasNotRunning;
    }
    terminate(running.pid, grace).await
}

/// Stops a component that is being replaced, then waits (up to 5 s) until
/// its port can be bound again: the leader's exit is not the moment its
/// listening socket is released (a child may hold it for a moment, and the
/// kernel closes it after the process is gone), and the replacement would
/// otherwise find its own predecessor's port "in use".
pub async fn stop_for_replacement(
    running: &Running,
    grace: Duration,
    address: std::net::SocketAddrV4,
) -> Stopped {
    let stopped = stop(running, grace).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpListener::bind(address).is_err() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stopped
}

/// Stops a process this program spawned itself: its pid cannot belong to
/// anyone else (an unreaped child keeps it), so no name check, which could
/// miss it while it is still being exec'd.
pub async fn stop_child(pid: u32, grace: Duration) -> Stopped {
    if !is_alive(pid) {
        return Stopped::WasNotRunning;
    }
    terminate(pid, grace).await
}

/// SIGTERM to the group, SIGKILL after `grace`.
async fn terminate(pid: u32, grace: Duration) -> Stopped {
    let group = Pid::from_raw(pid as i32);
    let _ = killpg(group, Signal::SIGTERM);
    if wait_for_exit(pid, grace).await {
        return Stopped::Gracefully;
    }
    let _ = killpg(group, Signal::SIGKILL);
    wait_for_exit(pid, Duration::from_secs(5)).await;
    Stopped::Killed
}

async fn wait_for_exit(pid: u32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while is_alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(pid: u32, program: &str, started: Option<StartTime>) -> Running {
        Running {
            program: program.into(),
            pid,
            started,
            address: "127.0.0.1:1".parse().unwrap(),
            fingerprint: String::new(),
            log: PathBuf::new(),
        }
    }

    #[tokio::test]
    async fn a_started_program_runs_until_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let launch = Launch::new("/bin/sleep".into(), dir.path().join("sleep.log")).arg("30");
        let pid = launch.spawn().unwrap();
        let sleep = running(pid, "sleep", StartTime::of(pid));
        assert!(is_ours(&sleep));
        assert_eq!(
            stop(&sleep, Duration::from_secs(5)).await,
            Stopped::Gracefully
        );
        assert!(!is_ours(&sleep));
        assert_eq!(
            stop(&sleep, Duration::from_secs(1)).await,
            Stopped::WasNotRunning
        );
    }

    #[tokio::test]
    async fn a_pid_with_another_start_time_is_not_ours_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let launch = Launch::new("/bin/sleep".into(), dir.path().join("sleep.log")).arg("30");
        let pid = launch.spawn().unwrap();
        let mut then = StartTime::of(pid).expect("a live process has a start time");
        assert_eq!(StartTime::of(pid), Some(then.clone()), "it does not change");
        then.ticks -= 1;
        let recycled = running(pid, "sleep", Some(then.clone()));
        assert!(!is_ours(&recycled), "same pid and name, another process");
        assert_eq!(
            stop(&recycled, Duration::from_secs(1)).await,
            Stopped::WasNotRunning
        );
        assert!(is_alive(pid), "left alone");
        then.ticks += 1;
        then.boot_id = "another boot".into();
        assert!(!is_ours(&running(pid, "sleep", Some(then))), "another boot");
        // A state file from before start times: the name decides.
        assert!(is_ours(&running(pid, "sleep", None)));
        assert!(!is_ours(&running(pid, "haproxy", None)));
        stop_child(pid, Duration::from_secs(5)).await;
    }

    #[tokio::test]
    async fn an_own_child_is_stopped_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let launch = Launch::new("/bin/sleep".into(), dir.path().join("sleep.log")).arg("30");
        let pid = launch.spawn().unwrap();
        assert_eq!(
            stop_child(pid, Duration::from_secs(5)).await,
            Stopped::Gracefully
        );
        assert!(!is_alive(pid));
    }

    #[tokio::test]
    async fn output_goes_to_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/echo.log");
        let launch = Launch::new("/bin/sh".into(), log.clone()).args(["-c", "echo hello"]);
        let pid = launch.spawn().unwrap();
        wait_for_exit(pid, Duration::from_secs(5)).await;
        assert_eq!(log_tail(&log, 5), "hello");
    }
}
