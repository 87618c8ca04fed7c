//! MariaDB (what the tutorial's RDS MySQL stands for), initialised into its
//! own data directory, never the system's database. Grant tables are skipped:
//! it listens on loopback only and exists for one test run.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use super::process::{free_port, program, service_dir, wait_for_port, ServiceProcess};

pub struct MariaDb {
    pub port: u16,
    dir: PathBuf,
    process: Option<ServiceProcess>,
}

impl MariaDb {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Initialises a data directory and starts the server on `port`.
    pub fn start_on(port: u16) -> Self {
        let dir = service_dir("mariadb");
        let data = dir.join("data");
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let status = Command::new(program("mariadb-install-db"))
            .args([
                "--no-defaults",
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ])
            .arg(format!("--datadir={}", data.display()))
            // Its own temporary directory: installs running side by side in
            // one /tmp clash on temporary table names.
            .arg(format!("--tmpdir={}", tmp.display()))
            .output()
            .expect("mariadb-install-db runs; run scripts/install-services");
        assert!(
            status.status.success(),
            "mariadb-install-db failed:\n{}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        );
        let mut server = Self {
            port,
            dir,
            process: None,
        };
        server.restart();
        server
    }

    /// The server's root URL (no database selected).
    pub fn root_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
    }

    /// Hangs the server (SIGSTOP): connections stay open, nothing answers.
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

    /// Starts (again) on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        let data = self.dir.join("data");
        let mut command = Command::new(program("mariadbd"));
        command
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-grant-tables",
            ])
            .args([
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=2",
            ])
            .arg(format!("--port={}", self.port))
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", self.dir.join("tmp").display()))
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ));
        let log = self.dir.join("mariadbd.log");
        let mut process = ServiceProcess::spawn("mariadbd", command, &log);
        wait_for_port("mariadbd", self.port, &mut process, &log);
        self.process = Some(process);
    }

    /// A new empty database on this server, as a `database.url`.
    pub async fn create_database(&self) -> String {
        use sqlx::Connection;
        let name = super::unique_name("photos");
        let mut conn = sqlx::MySqlConnection::connect(&self.root_url())
            .await
            .expect("connect to MariaDB");
        sqlx::query(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .execute(&mut conn)
            .await
            .unwrap();
        format!("{}/{name}", self.root_url())
    }
}

/// A fresh database on the MariaDB shared by this test binary.
pub async fn mariadb_database() -> String {
    static SHARED: OnceLock<MariaDb> = OnceLock::new();
    SHARED.get_or_init(MariaDb::start).create_database().await
}
