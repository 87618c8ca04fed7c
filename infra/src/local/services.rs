//! The supporting servers of a local stack: how each is started, prepared
//! and checked. Each runs on loopback with its data under the state
//! directory, never touching the system's own services.

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use super::process::Launch;
use super::state::{write_private, Secrets, StateDir};
use super::LocalError;
use crate::doctor::find_program;
use crate::plan::Addresses;

/// The S3 bucket photos go to.
pub const BUCKET: &str = "photos";
/// The S3 server's access key id; its secret is the stack's own.
pub const S3_ACCESS_KEY: &str = "photoscale";
/// The database and user the app uses on the private MariaDB.
pub const DATABASE: &str = "photoscale";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Mariadb,
    Memcached,
    Redis,
    S3,
}

impl Service {
    /// Start order; `down` goes the other way.
    pub const ALL: [Service; 4] = [Self::Mariadb, Self::Memcached, Self::Redis, Self::S3];

    pub fn name(self) -> &'static str {
        match self {
            Self::Mariadb => "mariadb",
            Self::Memcached => "memcached",
            Self::Redis => "redis",
            Self::S3 => "s3",
        }
    }

    pub fn program(self) -> &'static str {
        match self {
            Self::Mariadb => "mariadbd",
            Self::Memcached => "memcached",
            Self::Redis => "redis-server",
            // `photoscale s3-server`, the app's own binary.
            Self::S3 => "photoscale",
        }
    }

    /// Where `spec` wants it; None when the level does not use it.
    pub fn address(self, addresses: &Addresses) -> Option<SocketAddrV4> {
        match self {
            Self::Mariadb => addresses.database,
            Self::Memcached => addresses.memcached,
            Self::Redis => addresses.redis,
            Self::S3 => addresses.s3,
        }
    }

    /// How to start it on `address`; `app` is photoscale itself, which
    /// serves S3.
    pub fn launch(
        self,
        state_dir: &StateDir,
        address: SocketAddrV4,
        secrets: &Secrets,
        app: &Path,
    ) -> Result<Launch, LocalError> {
        let dir = state_dir.dir(self.name());
        let log = dir.join(format!("{}.log", self.name()));
        let program = match self {
            Self::S3 => app.to_owned(),
            _ => find(self.program())?,
        };
        let ip = address.ip().to_string();
        let port = address.port().to_string();
        let launch = Launch::new(program, log);
        Ok(match self {
            Self::Mariadb => launch
                .args(["--no-defaults", &run_as_flag()])
                .arg(format!("--bind-address={ip}"))
                .arg(format!("--port={port}"))
                .arg(format!("--datadir={}", dir.join("data").display()))
                .arg(format!("--tmpdir={}", dir.join("tmp").display()))
                .arg(format!("--socket={}", dir.join("mariadbd.sock").display()))
                .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
                // Creates the app's database and user on every start (idempotent).
                .arg(format!("--init-file={}", dir.join("init.sql").display()))
                .args([
                    "--skip-name-resolve",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=64M",
                    "--character-set-server=utf8mb4",
                    // A few threads serve every connection, rather than a
                    // thread each: on a small machine that is a third more
                    // queries a second (13,300 against 9,900 for the feed's).
                    "--thread-handling=pool-of-threads",
                ])
                .arg(format!("--thread-pool-size={}", cpus())),
            Self::Memcached => {
                // One worker thread per CPU, not memcached's default of four:
                // on a small machine the extra threads only add wake-ups
                // (the cached feed ran at half the rate with four on two CPUs).
                let launch = launch.args(["-l", &ip, "-p", &port, "-U", "0", "-m", "64"]);
                let launch = launch.args(["-t".to_owned(), cpus().to_string()]);
                if is_root() {
                    launch.args(["-u", "root"])
                } else {
                    launch
                }
            }
            Self::Redis => launch
                .args(["--bind", &ip, "--port", &port])
                .arg("--dir")
                .arg(dir.display().to_string())
                // Sessions survive a restart of Redis.
                .args(["--appendonly", "yes", "--save", ""]),
            Self::S3 => launch
                .arg("s3-server")
                .arg(format!("--listen={address}"))
                .arg(format!("--root={}", s3_objects_dir(state_dir).display()))
                .arg(format!("--bucket={BUCKET}"))
                // The key pair goes in the environment, never on the
                // command line where `ps` shows it.
                .env("PHOTOSCALE_S3_ACCESS_KEY_ID", S3_ACCESS_KEY)
                .env(
                    "PHOTOSCALE_S3_SECRET_ACCESS_KEY",
                    secrets.s3_secret_key.clone(),
                ),
        })
    }

    /// Work before a start: MariaDB's data directory is initialised.
    pub async fn prepare(self, state_dir: &StateDir, secrets: &Secrets) -> Result<(), LocalError> {
        if self != Self::Mariadb {
            return Ok(());
        }
        let dir = state_dir.dir(self.name());
        std::fs::create_dir_all(dir.join("tmp")).map_err(|source| LocalError::StateDir {
            path: dir.clone(),
            source,
        })?;
        write_private(
            &dir.join("init.sql"),
            init_sql(&secrets.database_password).as_bytes(),
        )?;
        if dir.join("data/mysql").exists() {
            return Ok(());
        }
        let output = tokio::process::Command::new(find("mariadb-install-db")?)
            .args(["--no-defaults", &run_as_flag(), "--skip-test-db"])
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--tmpdir={}", dir.join("tmp").display()))
            .output()
            .await
            .map_err(|source| LocalError::Spawn {
                component: "mariadb".into(),
                program: "mariadb-install-db".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(LocalError::Command {
                what: "mariadb-install-db (initialising the database's data directory)".into(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            });
        }
        Ok(())
    }
}

/// Where the S3 server keeps its objects (a directory per bucket).
pub fn s3_objects_dir(state_dir: &StateDir) -> PathBuf {
    state_dir.dir(Service::S3.name()).join("objects")
}

/// The app's database and user; the password is hex, so it needs no quoting.
fn init_sql(password: &str) -> String {
    format!(
        "CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4;\n\
         CREATE USER IF NOT EXISTS '{DATABASE}'@'127.0.0.1' IDENTIFIED BY '{password}';\n\
         ALTER USER '{DATABASE}'@'127.0.0.1' IDENTIFIED BY '{password}';\n\
         GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{DATABASE}'@'127.0.0.1';\n"
    )
}

/// The `database.url` of the private MariaDB.
pub fn database_url(address: SocketAddrV4, secrets: &Secrets) -> String {
    format!(
        "mysql://{DATABASE}:{}@{address}/{DATABASE}",
        secrets.database_password
    )
}

pub fn find(program: &str) -> Result<PathBuf, LocalError> {
    find_program(program).ok_or_else(|| {
        LocalError::Missing(format!(
            "{program} is not installed\n  fix: run `photoscale doctor` for the install command"
        ))
    })
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// mariadbd refuses to run as root unless told to.
fn run_as_flag() -> String {
    let user = if is_root() {
        "root".to_owned()
    } else {
        nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| "nobody".into())
    };
    format!("--user={user}")
}

/// The CPUs this machine has, for servers' thread counts.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_user_is_created_idempotently() {
        let sql = init_sql("abc123");
        assert!(sql.contains("CREATE DATABASE IF NOT EXISTS photoscale"));
        assert!(sql
            .contains("CREATE USER IF NOT EXISTS 'photoscale'@'127.0.0.1' IDENTIFIED BY 'abc123'"));
        assert!(sql.contains("GRANT ALL PRIVILEGES ON photoscale.*"));
    }
}
