//! The settings: one type per section of `photoscale.toml`, with the
//! defaults of the embedded level 0 (SQLite, local disk).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{BackupSettings, InfraSettings, LimitSettings};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port the web server listens on.
    pub bind: SocketAddr,
    /// Directory for the embedded defaults: SQLite file, photos, session key.
    pub data_dir: PathBuf,
    /// Simulated latency added to the front page (the classic demo's `$latency`).
    #[serde(with = "humantime_serde")]
    pub latency: Duration,
    pub instance: InstanceSettings,
    pub log: LogSettings,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub uploads: UploadSettings,
    pub sessions: SessionSettings,
    pub cache: CacheSettings,
    pub admin: AdminSettings,
    pub limits: LimitSettings,
    pub feed: FeedSettings,
    /// Scheduled backups (see configuration/backup.rs).
    pub backup: BackupSettings,
    /// Defaults for `photoscale infra` (see configuration/infra.rs).
    pub infra: InfraSettings,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceSettings {
    /// Shown on every page and in `X-Instance-Id`; a random `i-xxxxxxxx` when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `photoscale=debug,info`; `RUST_LOG` wins.
    pub level: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Worker threads; the number of CPUs when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Load balancers whose `X-Forwarded-For` is believed (addresses or
    /// networks, e.g. `["10.0.0.0/16"]`); from anyone else the header is
    /// ignored, so a client cannot pick the address its limits count under.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Send `Strict-Transport-Security` (turn on only when clients reach the
    /// app over HTTPS, e.g. behind a TLS-terminating load balancer).
    pub hsts: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://FILE`, `mysql://USER:PASS@HOST/DB` (MariaDB too) or
    /// `postgres://USER:PASS@HOST/DB`; defaults to `<data_dir>/photoscale.db`.
    /// May hold a password, so it is never printed as-is.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// How long a request waits for a free connection before it gets a 503.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// How long start-up keeps retrying an unreachable database before giving up.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The longest a request waits on one database call (waiting for a
    /// connection included), on every engine, whether or not the server
    /// still answers; MariaDB, MySQL and PostgreSQL also get it as their
    /// own statement limit. Past it the request gets a 503.
    #[serde(with = "humantime_serde")]
    pub query_timeout: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// A directory on this machine.
    #[default]
    Local,
    /// A directory several instances mount (e.g. over NFS); `storage.path` is required.
    Shared,
    /// An S3 bucket (or an S3-compatible server); see `storage.s3`.
    S3,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// Directory for photos; defaults to `<data_dir>/photos` for `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// CloudFront-style base URL that photo links are rewritten to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdn_base_url: Option<String>,
    /// Bytes of photo objects this instance keeps in memory to serve the
    /// most requested ones without reading storage; 0 turns it off.
    pub memory_cache_bytes: u64,
    /// Objects larger than this are always streamed from storage.
    pub memory_cache_max_object_bytes: u64,
    /// An object with no database row is removed once it is this old: an
    /// upload interrupted by a crash between its objects and its row. Must
    /// be longer than any upload takes from its last byte to its row.
    #[serde(with = "humantime_serde")]
    pub orphan_grace: Duration,
    /// How often each instance looks for such objects; 0s turns it off.
    #[serde(with = "humantime_serde")]
    pub sweep_every: Duration,
    pub s3: S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: StorageBackend::default(),
            path: None,
            cdn_base_url: None,
            memory_cache_bytes: 32 * 1024 * 1024,
            memory_cache_max_object_bytes: 1024 * 1024,
            orphan_grace: Duration::from_secs(3600),
            sweep_every: Duration::from_secs(3600),
            s3: S3Settings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum S3Serve {
    /// Browsers fetch photos straight from S3 with short-lived signed URLs.
    #[default]
    Presigned,
    /// The app streams photos from S3 itself.
    Proxy,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    pub bucket: String,
    /// Prepended to every object key, e.g. "photoscale/".
    pub prefix: String,
    /// AWS region; from the standard AWS configuration when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Endpoint of an S3-compatible server, e.g. http://127.0.0.1:9000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); defaults to true when
    /// `endpoint` is set, as S3-compatible servers expect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    pub serve: S3Serve,
    /// Lifetime of presigned photo URLs.
    #[serde(with = "humantime_serde")]
    pub presign_ttl: Duration,
    /// A key pair for an S3-compatible server (the local stack's); when
    /// unset, credentials come from the standard AWS chain (environment,
    /// profile, instance role), as on AWS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing)]
    pub secret_access_key: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadSettings {
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Largest accepted width or height, in pixels.
    pub max_dimension: u32,
    /// Largest accepted width × height (decompression-bomb guard).
    pub max_pixels: u64,
    /// Long side of generated thumbnails, in pixels.
    pub thumbnail_size: u32,
    /// How long the whole upload body may take to arrive.
    #[serde(with = "humantime_serde")]
    pub receive_timeout: Duration,
    /// Memory that decoding images may take at once, in bytes, budgeted by
    /// width × height × bytes per pixel; an image needing more is refused.
    pub decode_memory_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionBackend {
    /// Kept in this instance's memory: behind a load balancer, a login on one
    /// instance is unknown to the others (the classic "I keep getting logged out").
    Memory,
    /// Signed and encrypted cookie: instances sharing `sessions.key` share sessions.
    #[default]
    Cookie,
    /// A memcached server at `sessions.url` (the tutorial's ElastiCache).
    Memcached,
    /// A Redis server at `sessions.url`.
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    pub backend: SessionBackend,
    /// `memcache://HOST:PORT` or `redis://HOST:PORT` for the server-side backends.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// Secret of at least 32 bytes that signs and encrypts session cookies. When
    /// unset, one is generated and kept in `<data_dir>/session.key`.
    #[serde(skip_serializing)]
    pub key: Option<SecretString>,
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// Mark the session cookie `Secure`. Browsers honour it on https and on
    /// localhost; set false only for plain-http deployments on other hosts.
    pub secure_cookie: bool,
    /// Longest wait on the session store before the request gets a 503.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How often a logged-in session is compared with its user's session
    /// generation in the database ("log out everywhere", password change).
    #[serde(with = "humantime_serde")]
    pub recheck_every: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackend {
    /// Every front page reads the database.
    #[default]
    None,
    /// Per-instance memory.
    Memory,
    /// A memcached server at `cache.url`.
    Memcached,
    /// A Redis server at `cache.url`.
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    pub backend: CacheBackend,
    /// `memcache://HOST:PORT` or `redis://HOST:PORT`.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// How long a cached feed is served before the database is read again.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// Longest wait on the cache; past it the feed is read from the database.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Bearer token for `/admin/*` (run-time latency). Unset = admin API disabled.
    #[serde(skip_serializing)]
    pub token: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedSettings {
    /// How many photos the front page shows.
    pub size: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            latency: Duration::ZERO,
            instance: InstanceSettings::default(),
            log: LogSettings::default(),
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            storage: StorageSettings::default(),
            uploads: UploadSettings::default(),
            sessions: SessionSettings::default(),
            cache: CacheSettings::default(),
            admin: AdminSettings::default(),
            limits: LimitSettings::default(),
            feed: FeedSettings::default(),
            backup: Default::default(),
            infra: InfraSettings::default(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            shutdown_timeout: Duration::from_secs(30),
            workers: None,
            trusted_proxies: Vec::new(),
            hsts: false,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(30),
            query_timeout: Duration::from_secs(5),
        }
    }
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_dimension: 12_000,
            max_pixels: 50_000_000,
            thumbnail_size: 400,
            receive_timeout: Duration::from_secs(120),
            decode_memory_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            backend: SessionBackend::Cookie,
            url: None,
            key: None,
            ttl: Duration::from_secs(14 * 24 * 3600),
            secure_cookie: true,
            timeout: Duration::from_secs(2),
            recheck_every: Duration::from_secs(60),
        }
    }
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            prefix: String::new(),
            region: None,
            endpoint: None,
            path_style: None,
            serve: S3Serve::Presigned,
            presign_ttl: Duration::from_secs(15 * 60),
            access_key_id: None,
            secret_access_key: None,
        }
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            backend: CacheBackend::None,
            url: None,
            ttl: Duration::from_secs(60),
            timeout: Duration::from_millis(250),
        }
    }
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self { size: 10 }
    }
}

impl Settings {
    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> SecretString {
        match &self.database.url {
            Some(url) => url.clone(),
            None => {
                let file = self.data_dir.join("photoscale.db");
                SecretString::from(format!("sqlite://{}", file.display()))
            }
        }
    }

    /// The photo directory, defaulting to `<data_dir>/photos`.
    pub fn storage_path(&self) -> PathBuf {
        self.storage
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("photos"))
    }
}
