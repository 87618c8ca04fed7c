//! A Redis server of the test's own, so it can be stopped and restarted.

use std::path::PathBuf;
use std::process::Command;

use super::process::{free_port, program, service_dir, wait_for_port, ServiceProcess};

pub struct Redis {
    pub port: u16,
    dir: PathBuf,
    process: Option<ServiceProcess>,
}

impl Redis {
    pub fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            dir: service_dir("redis"),
            process: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(program("redis-server"));
        command.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &self.port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ]);
        command.arg(&self.dir);
        let log = self.dir.join("redis.log");
        let mut process = ServiceProcess::spawn("redis-server", command, &log);
        wait_for_port("redis-server", self.port, &mut process, &log);
        self.process = Some(process);
    }
}
