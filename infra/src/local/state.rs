//! The state directory: what a local stack is running (`stack.json`), its
//! secrets (`secrets.json`, readable only by its owner), and one directory
//! per component for data, configuration and logs.
//!
//! ```text
//! .photoscale/
//!   stack.json  secrets.json  lock
//!   mariadb/  memcached/  redis/  s3/  haproxy/  app/  instances/i-1/ ...
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::LocalError;
use crate::spec::StackSpec;

/// A marker that says "photoscale made this directory", so `--purge` never
/// deletes a directory it did not create.
const MARKER: &str = ".photoscale-state";

/// One process the stack started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Running {
    /// The program name, checked against the pid when no start time was
    /// recorded (a state file from an older photoscale).
    pub program: String,
    pub pid: u32,
    /// When the process started: with the pid, who it is (see process.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<super::start_time::StartTime>,
    pub address: SocketAddrV4,
    /// A digest of how it was started; a different one means "restart it".
    pub fingerprint: String,
    pub log: PathBuf,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StackState {
    /// The spec last applied; None before the first successful `up`.
    pub spec: Option<StackSpec>,
    pub entry: Option<SocketAddrV4>,
    /// Supporting servers by name: mariadb, memcached, redis, s3, haproxy.
    pub components: BTreeMap<String, Running>,
    /// App instances by id: i-1, i-2, ...
    pub instances: BTreeMap<String, Running>,
}

/// Credentials generated once per state directory and reused, so a kept
/// database keeps accepting the app's password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secrets {
    pub database_password: String,
    pub session_key: String,
    pub admin_token: String,
    pub s3_secret_key: String,
}

impl Secrets {
    fn generate() -> Self {
        let token = |bytes: usize| {
            let mut buf = vec![0u8; bytes];
            rand::thread_rng().fill_bytes(&mut buf);
            hex::encode(buf)
        };
        Self {
            database_password: token(16),
            session_key: token(64),
            admin_token: token(24),
            s3_secret_key: token(20),
        }
    }
}

/// A state directory, opened (and created when missing).
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Opens `path`, creating it when missing; refuses a non-empty directory
    /// photoscale did not create.
    pub fn create(path: &Path) -> Result<Self, LocalError> {
        let io = |source| LocalError::StateDir {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let root = path.canonicalize().map_err(io)?;
        let marker = root.join(MARKER);
        if !marker.exists() {
            let empty = std::fs::read_dir(&root).map_err(io)?.next().is_none();
            if !empty {
                return Err(LocalError::NotAStateDir(root));
            }
            std::fs::write(
                &marker,
                "made by photoscale infra; `infra down --purge` deletes this directory\n",
            )
            .map_err(io)?;
        }
        Ok(Self { root })
    }

    /// Opens an existing state directory; None when there is none.
    pub fn open(path: &Path) -> Option<Self> {
        let root = path.canonicalize().ok()?;
        root.join(MARKER).exists().then_some(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A component's directory, created on first use.
    pub fn dir(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    fn stack_file(&self) -> PathBuf {
        self.root.join("stack.json")
    }

    pub fn load(&self) -> Result<StackState, LocalError> {
        let path = self.stack_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| LocalError::CorruptState(path, e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StackState::default()),
            Err(source) => Err(LocalError::StateDir { path, source }),
        }
    }

    /// Saves through a temporary file, so a crash never leaves half a file.
    pub fn save(&self, state: &StackState) -> Result<(), LocalError> {
        let text = serde_json::to_string_pretty(state).expect("state serialises");
        write_private(&self.stack_file(), text.as_bytes())
    }

    pub fn secrets(&self) -> Result<Secrets, LocalError> {
        let path = self.root.join("secrets.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return serde_json::from_str(&text)
                .map_err(|e| LocalError::CorruptState(path, e.to_string()));
        }
        let secrets = Secrets::generate();
        write_private(
            &path,
            serde_json::to_string_pretty(&secrets).unwrap().as_bytes(),
        )?;
        Ok(secrets)
    }

    /// Deletes the whole directory (`down --purge`).
    pub fn purge(self) -> Result<(), LocalError> {
        std::fs::remove_dir_all(&self.root).map_err(|source| LocalError::StateDir {
            path: self.root.clone(),
            source,
        })
    }

    /// Holds an exclusive lock until dropped, so two `infra` commands never
    /// change one stack at the same time.
    pub fn lock(&self) -> Result<StateLock, LocalError> {
        let path = self.root.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LocalError::StateDir { path, source })?;
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
            .map(StateLock)
            .map_err(|_| LocalError::Busy(self.root.clone()))
    }
}

impl StateDir {
    /// Like `lock`, but waits up to `limit` for another command to finish.
    pub async fn lock_waiting(&self, limit: std::time::Duration) -> Result<StateLock, LocalError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.lock() {
                Err(LocalError::Busy(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                result => return result,
            }
        }
    }
}

pub struct StateLock(#[allow(dead_code)] nix::fcntl::Flock<std::fs::File>);

/// Writes `bytes` to `path` (mode 600), all or nothing (see atomic_file.rs).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LocalError> {
    crate::write_atomically(path, bytes).map_err(|source| LocalError::StateDir {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_secrets_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack");
        let state_dir = StateDir::create(&path).unwrap();
        let secrets = state_dir.secrets().unwrap();
        let mut state = StackState::default();
        state.instances.insert(
            "i-1".into(),
            Running {
                program: "photoscale".into(),
                pid: 42,
                started: Some(super::super::start_time::StartTime {
                    boot_id: "b".into(),
                    ticks: 7,
                }),
                address: "127.0.0.11:8081".parse().unwrap(),
                fingerprint: "abc".into(),
                log: path.join("i-1.log"),
            },
        );
        state_dir.save(&state).unwrap();

        let again = StateDir::open(&path).unwrap();
        assert_eq!(again.load().unwrap().instances, state.instances);
        assert_eq!(again.secrets().unwrap().admin_token, secrets.admin_token);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.join("secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_foreign_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "precious").unwrap();
        assert!(matches!(
            StateDir::create(dir.path()),
            Err(LocalError::NotAStateDir(_))
        ));
        assert!(StateDir::open(dir.path()).is_none());
    }

    #[test]
    fn only_one_command_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::create(dir.path()).unwrap();
        let _held = state_dir.lock().unwrap();
        assert!(matches!(state_dir.lock(), Err(LocalError::Busy(_))));
    }
}
