//! A memcached server of the test's own, so it can be stopped and restarted.

use std::path::PathBuf;
use std::process::Command;

use super::process::{free_port, program, service_dir, wait_for_port, ServiceProcess};

pub struct Memcached {
    pub port: u16,
    log: PathBuf,
    process: Option<ServiceProcess>,
}

impl Memcached {
    pub fn start() -> Self {
        let dir = service_dir("memcached");
        let mut server = Self {
            port: free_port(),
            log: dir.join("memcached.log"),
            process: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("memcache://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Freezes the server: connections open but nothing answers (a "slow" cache).
    pub fn pause(&self) {
        if let Some(process) = &self.process {
            process.signal(libc::SIGSTOP);
            process.wait_until_stopped();
        }
    }

    pub fn resume(&self) {
        if let Some(process) = &self.process {
            process.signal(libc::SIGCONT);
        }
    }

    /// Starts (again) on the same port, empty, as after a real restart.
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(program("memcached"));
        command.args([
            "-l",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "0",
            "-m",
            "32",
        ]);
        if nix_is_root() {
            command.args(["-u", "root"]);
        }
        let mut process = ServiceProcess::spawn("memcached", command, &self.log);
        wait_for_port("memcached", self.port, &mut process, &self.log);
        self.process = Some(process);
    }
}

fn nix_is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}
