//! PostgreSQL, initialised into its own data directory. PostgreSQL refuses to
//! run as root, so under root it runs as the `postgres` system user.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::process::{free_port, program, service_dir, wait_for_port, ServiceProcess};

struct Postgres {
    port: u16,
    _process: ServiceProcess,
}

/// (uid, gid) to run as: ours, or the `postgres` user's when we are root.
fn run_as() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "there is no postgres user; run scripts/install-services"
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    Some((id("-u"), id("-g")))
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>, dir: &Path) {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
        command.uid(uid).gid(gid);
    }
}

impl Postgres {
    fn start() -> Self {
        let user = run_as();
        let dir: PathBuf = service_dir("postgres");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        as_user(&mut Command::new("true"), user, &dir);
        let mut initdb = Command::new(program("initdb"));
        initdb
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .stdout(std::process::Stdio::null());
        as_user(&mut initdb, user, &data);
        assert!(
            initdb.status().expect("initdb runs").success(),
            "initdb failed"
        );

        let port = free_port();
        let mut command = Command::new(program("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "full_page_writes=off", "-k"])
            .arg(&dir);
        as_user(&mut command, user, &dir);
        let log = dir.join("postgres.log");
        let mut process = ServiceProcess::spawn("postgres", command, &log);
        wait_for_port("postgres", port, &mut process, &log);
        Self {
            port,
            _process: process,
        }
    }
}

/// A fresh database on the PostgreSQL shared by this test binary.
pub async fn postgres_database() -> String {
    use sqlx::Connection;
    static SHARED: OnceLock<Postgres> = OnceLock::new();
    let port = SHARED.get_or_init(Postgres::start).port;
    let root = format!("postgres://postgres@127.0.0.1:{port}");
    let name = super::unique_name("photos");
    // The server may still be finishing start-up when the port opens.
    let mut conn = None;
    for _ in 0..100 {
        match sqlx::PgConnection::connect(&format!("{root}/postgres")).await {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let mut conn = conn.expect("PostgreSQL accepts connections");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{root}/{name}")
}
