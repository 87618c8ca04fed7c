//! Starting, waiting for and stopping server processes.
//!
//! Every server is spawned from one long-lived thread with
//! `PR_SET_PDEATHSIG`: the kernel kills it when that thread ends, which is
//! when the test binary exits, however it exits. Servers shared by the whole
//! binary live in statics that are never dropped, so this is what stops them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("service-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // The channel's sender lives in a static, so this loop never
                // ends while the process runs.
            })
            .expect("the spawner thread starts");
        Mutex::new(tx)
    })
}

/// A running server; killed when dropped.
pub struct ServiceProcess {
    name: String,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Spawns `command` with its output going to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Self {
        let out = std::fs::File::create(log).expect("the service log can be created");
        let err = out.try_clone().unwrap();
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        unsafe {
            command.pre_exec(|| {
                // SAFETY: prctl is async-signal-safe; nothing else runs here.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        spawner().lock().unwrap().send((command, tx)).unwrap();
        let child = rx
            .recv()
            .unwrap()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}; run scripts/install-services"));
        Self {
            name: name.to_owned(),
            child: Some(child),
        }
    }

    /// Stops the server the way an operator would (SIGTERM), and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (SIGSTOP freezes the server: it accepts but never answers).
    pub fn signal(&self, signal: libc::c_int) {
        if let Some(child) = &self.child {
            unsafe {
                libc::kill(child.id() as libc::pid_t, signal);
            }
        }
    }

    /// Waits until the kernel reports the process stopped (state `T`).
    pub fn wait_until_stopped(&self) {
        let Some(child) = &self.child else { return };
        let stat = format!("/proc/{}/stat", child.id());
        for _ in 0..100 {
            let text = std::fs::read_to_string(&stat).unwrap_or_default();
            // The state follows the command name, which is in parentheses.
            let state = text
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next());
            if state == Some('T') {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not stop", self.name);
    }

    /// Panics with the server's log when it has exited.
    pub fn assert_running(&mut self, log: &Path) {
        if let Some(child) = &mut self.child {
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{} exited ({status}):\n{text}", self.name);
            }
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(name: &str, port: u16, process: &mut ServiceProcess, log: &Path) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        process.assert_running(log);
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{name} did not listen on port {port} within 60 s");
}

/// Finds a server program on PATH or in the places Debian installs them.
pub fn program(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from));
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed; run scripts/install-services (the test command does)")
        })
}

/// A directory for one server's data, removed with the test binary's others.
pub fn service_dir(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("photoscale-services-{}", std::process::id()));
    clean_up_old_runs(&root);
    let dir = root.join(super::unique_name(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes data left by earlier test runs whose process is gone.
fn clean_up_old_runs(current: &Path) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("photoscale-services-") else {
                continue;
            };
            let alive = Path::new("/proc").join(pid).exists();
            if entry.path() != current && !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}
