//! Layered configuration: built-in defaults < `photoscale.toml` < `PHOTOSCALE_*`
//! environment variables < command-line flags.
//!
//! Every section rejects unknown keys, so a typo stops start-up with a message
//! that names the key and where it came from instead of being silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The file read when `--config` is not given (it may be absent).
pub const DEFAULT_CONFIG_FILE: &str = "photoscale.toml";
/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "PHOTOSCALE_";
/// `PHOTOSCALE_*` variables that are command-line defaults, not keys:
/// PHOTOSCALE_CONFIG (--config), PHOTOSCALE_STATE_DIR (--state-dir) and
/// PHOTOSCALE_PROGRAM_PATH (where `infra` looks for servers).
const NOT_CONFIGURATION_KEYS: &[&str] = &["config", "state_dir", "program_path"];

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
    pub limits: crate::abuse_limits::LimitSettings,
    pub feed: FeedSettings,
    /// Scheduled backups (see backup/schedule.rs).
    pub backup: crate::backup::schedule::BackupSettings,
    /// Defaults for `photoscale infra` (see infra_settings.rs).
    pub infra: crate::infra_settings::InfraSettings,
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
            limits: crate::abuse_limits::LimitSettings::default(),
            feed: FeedSettings::default(),
            backup: Default::default(),
            infra: crate::infra_settings::InfraSettings::default(),
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

    /// Checks that go beyond types: ranges and relationships between keys.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String, fix: &str| {
            Err(ConfigError::Invalid {
                key: key.to_owned(),
                problem,
                fix: fix.to_owned(),
            })
        };
        if self
            .backup
            .every
            .is_some_and(|every| every < Duration::from_secs(1))
        {
            return invalid(
                "backup.every",
                "less than a second apart".into(),
                "use a duration such as \"10m\" (RightScale's default) or \"1h\"",
            );
        }
        if self.backup.keep == Some(0) {
            return invalid(
                "backup.keep",
                "0 would delete every backup".into(),
                "keep at least 1, or leave it out to keep all",
            );
        }
        if let Err(e) = photoscale_infra::schedule::validate_all(&self.infra.schedule) {
            return invalid(
                "infra.schedule",
                e.to_string(),
                "fix the [[infra.schedule]] entry (see `photoscale infra schedule add --help`)",
            );
        }
        if !(1..=100).contains(&self.feed.size) {
            return invalid(
                "feed.size",
                format!("{} is out of range", self.feed.size),
                "use a number of photos from 1 to 100",
            );
        }
        if self.uploads.max_bytes < 1024 {
            return invalid(
                "uploads.max_bytes",
                format!(
                    "{} bytes is too small for any photo",
                    self.uploads.max_bytes
                ),
                "use at least 1024 (the default is 10485760, 10 MiB)",
            );
        }
        if !(16..=2048).contains(&self.uploads.thumbnail_size) {
            return invalid(
                "uploads.thumbnail_size",
                format!("{} px is out of range", self.uploads.thumbnail_size),
                "use a size from 16 to 2048 pixels (the default is 400)",
            );
        }
        if self.uploads.max_dimension == 0 || self.uploads.max_pixels == 0 {
            return invalid(
                "uploads.max_dimension / uploads.max_pixels",
                "zero would reject every image".into(),
                "use positive limits (defaults: 12000 and 50000000)",
            );
        }
        if let Some((key, problem, fix)) = self.limits.problem() {
            return invalid(key, problem, fix);
        }
        if self.database.query_timeout < Duration::from_millis(100) {
            return invalid(
                "database.query_timeout",
                format!(
                    "{} is too short for any query",
                    humantime::format_duration(self.database.query_timeout)
                ),
                "use at least 100ms (the default is 5s)",
            );
        }
        // An upload's INSERT may take the query timeout, and the check after a
        // timed-out INSERT as long again: its objects must outlive both.
        if self.storage.orphan_grace < self.database.query_timeout * 2 {
            return invalid(
                "storage.orphan_grace",
                format!(
                    "{} is shorter than twice database.query_timeout ({}), so an upload still \
                     writing its row could lose its objects",
                    humantime::format_duration(self.storage.orphan_grace),
                    humantime::format_duration(self.database.query_timeout)
                ),
                "use at least twice database.query_timeout (the default is 1h)",
            );
        }
        if self.uploads.decode_memory_bytes < 16 * 1024 * 1024 {
            return invalid(
                "uploads.decode_memory_bytes",
                format!(
                    "{} bytes is too little to decode a photo",
                    self.uploads.decode_memory_bytes
                ),
                "use at least 16777216 (16 MiB; the default is 268435456, 256 MiB)",
            );
        }
        if self.uploads.receive_timeout < Duration::from_secs(1) {
            return invalid(
                "uploads.receive_timeout",
                "too short for any upload".into(),
                "use at least 1s (the default is 120s)",
            );
        }
        if self.database.max_connections == 0 {
            return invalid(
                "database.max_connections",
                "0 connections cannot serve any request".into(),
                "use at least 1 (the default is 10)",
            );
        }
        if self.sessions.ttl < Duration::from_secs(60) {
            return invalid(
                "sessions.ttl",
                format!(
                    "{} is too short",
                    humantime::format_duration(self.sessions.ttl)
                ),
                "use at least 1m, e.g. \"14d\"",
            );
        }
        if let Some(key) = &self.sessions.key {
            if key.expose_secret().len() < 32 {
                return invalid(
                    "sessions.key",
                    "the key is shorter than 32 bytes".into(),
                    "use a random string of at least 32 characters, e.g. from `openssl rand -hex 32`",
                );
            }
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return invalid(
                "log.level",
                format!("{:?} is not a log filter: {e}", self.log.level),
                "use a level such as \"info\" or \"debug\", or a filter like \"photoscale=debug,info\"",
            );
        }
        self.validate_backends()?;
        if let Some(id) = &self.instance.id {
            let ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok {
                return invalid(
                    "instance.id",
                    format!("{id:?} is not a valid instance id"),
                    "use 1 to 64 letters, digits, '-', '_' or '.', e.g. \"i-1\"",
                );
            }
        }
        Ok(())
    }
}

impl Settings {
    /// Each backend's required keys, checked together so the message names them.
    fn validate_backends(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: &str, fix: &str| {
            Err(ConfigError::Invalid {
                key: key.to_owned(),
                problem: problem.to_owned(),
                fix: fix.to_owned(),
            })
        };
        if let Some(url) = &self.database.url {
            let url = url.expose_secret();
            let known = ["sqlite:", "mysql:", "mariadb:", "postgres:", "postgresql:"];
            if !known.iter().any(|scheme| url.starts_with(scheme)) {
                return invalid(
                    "database.url",
                    "the URL scheme is not one photoscale knows",
                    "use sqlite://FILE, mysql://USER:PASSWORD@HOST:PORT/DB (MySQL or MariaDB) \
                     or postgres://USER:PASSWORD@HOST:PORT/DB",
                );
            }
        }
        match self.storage.backend {
            StorageBackend::Shared if self.storage.path.is_none() => {
                return invalid(
                    "storage.path",
                    "`storage.backend = \"shared\"` needs the shared directory",
                    "set storage.path to the directory every instance mounts, e.g. /mnt/photos",
                )
            }
            StorageBackend::S3 if !valid_bucket_name(&self.storage.s3.bucket) => {
                return invalid(
                    "storage.s3.bucket",
                    "`storage.backend = \"s3\"` needs a valid bucket name",
                    "set storage.s3.bucket to 3-63 lower-case letters, digits, '-' or '.'",
                )
            }
            _ => {}
        }
        if self.storage.s3.access_key_id.is_some() != self.storage.s3.secret_access_key.is_some() {
            return invalid(
                "storage.s3.access_key_id / storage.s3.secret_access_key",
                "one of the pair is set without the other",
                "set both, or neither to use the standard AWS credentials (environment, profile, instance role)",
            );
        }
        for (key, url) in [
            ("storage.s3.endpoint", self.storage.s3.endpoint.as_deref()),
            ("storage.cdn_base_url", self.storage.cdn_base_url.as_deref()),
        ] {
            if let Some(url) = url {
                if url::Url::parse(url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
                    return invalid(
                        key,
                        "not an http(s) URL",
                        "use a URL such as https://host:port",
                    );
                }
            }
        }
        let sessions_url = self.sessions.url.as_ref().map(|u| u.expose_secret());
        match self.sessions.backend {
            SessionBackend::Memcached | SessionBackend::Redis => check_server_url(
                "sessions.url",
                sessions_url,
                self.sessions.backend == SessionBackend::Redis,
            )?,
            SessionBackend::Memory | SessionBackend::Cookie => {}
        }
        let cache_url = self.cache.url.as_ref().map(|u| u.expose_secret());
        match self.cache.backend {
            CacheBackend::Memcached | CacheBackend::Redis => check_server_url(
                "cache.url",
                cache_url,
                self.cache.backend == CacheBackend::Redis,
            )?,
            CacheBackend::None | CacheBackend::Memory => {}
        }
        if let Some(token) = &self.admin.token {
            if token.expose_secret().len() < 16 {
                return invalid(
                    "admin.token",
                    "the token is shorter than 16 characters",
                    "use a random string, e.g. from `openssl rand -hex 16`",
                );
            }
        }
        Ok(())
    }
}

/// A memcached or Redis URL is required by that backend, with the right scheme.
fn check_server_url(key: &str, url: Option<&str>, redis: bool) -> Result<(), ConfigError> {
    let (schemes, example) = if redis {
        (&["redis", "rediss"][..], "redis://127.0.0.1:6379")
    } else {
        (
            &["memcache", "memcached", "tcp"][..],
            "memcache://127.0.0.1:11211",
        )
    };
    let parsed = url.map(url::Url::parse);
    let ok = matches!(&parsed, Some(Ok(u)) if schemes.contains(&u.scheme()) && u.host().is_some());
    if ok {
        return Ok(());
    }
    let problem = match url {
        None => "this backend needs the server's address".to_owned(),
        Some(_) => "not a valid server URL for this backend".to_owned(),
    };
    Err(ConfigError::Invalid {
        key: key.to_owned(),
        problem,
        fix: format!("set it to a URL such as {example}"),
    })
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// Values given on the command line; `None` means "not given, keep the lower layers".
#[derive(Debug, Clone, Default, Serialize, clap::Args)]
pub struct CliOverrides {
    /// Address and port to listen on, e.g. 127.0.0.1:8080 [config: bind]
    #[arg(long, value_name = "ADDR:PORT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    /// Directory for the SQLite database, photos and session key [config: data_dir]
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Log format [config: log.format]
    #[arg(long, value_name = "FORMAT")]
    #[serde(skip)]
    pub log_format: Option<LogFormat>,
    /// Simulated front-page latency, e.g. 250ms or 2s [config: latency]
    #[arg(long, value_name = "DURATION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// Instance id shown on pages and in X-Instance-Id [config: instance.id]
    #[arg(long, value_name = "ID")]
    #[serde(skip)]
    pub instance_id: Option<String>,
}

/// Where the configuration comes from, besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// `--config FILE`: must exist. When `None`, `photoscale.toml` is read if present.
    pub file: Option<PathBuf>,
    pub overrides: CliOverrides,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}\n  fix: check the path given to --config (or create the file)")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration error: {0}")]
    Figment(String),
    #[error("configuration error: `{key}`: {problem}\n  fix: {fix}")]
    Invalid {
        key: String,
        problem: String,
        fix: String,
    },
}

/// A `photoscale.toml` in a parent directory, when none is given and the
/// current directory has none: it is not read, and the caller warns about
/// it so that nobody wonders why its settings do not apply.
pub fn ignored_parent_config(sources: &ConfigSources) -> Option<PathBuf> {
    if sources.file.is_some() || Path::new(DEFAULT_CONFIG_FILE).exists() {
        return None;
    }
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .skip(1)
        .map(|dir| dir.join(DEFAULT_CONFIG_FILE))
        .find(|file| file.is_file())
}

/// Says on stderr (logging is not set up yet: this file configures it) that
/// a parent directory's `photoscale.toml` is not read, and how to use it.
pub fn warn_if_parent_config_ignored(sources: &ConfigSources) {
    if let Some(ignored) = ignored_parent_config(sources) {
        let dir = ignored.parent().unwrap_or(Path::new("/"));
        eprintln!(
            "warning: {} is not read: photoscale reads ./photoscale.toml only\n  fix: run from {}, or pass --config {}",
            ignored.display(),
            dir.display(),
            ignored.display()
        );
    }
}

impl Settings {
    /// Reads every layer, from `sources` and the process environment.
    pub fn load(sources: &ConfigSources) -> Result<Settings, ConfigError> {
        Self::load_with_env(sources, Env::prefixed(ENV_PREFIX))
    }

    fn load_with_env(sources: &ConfigSources, env: Env) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        figment = match &sources.file {
            Some(path) => {
                ensure_readable(path)?;
                figment.merge(Toml::file(path))
            }
            // The current directory's only: `Toml::file` would also take
            // one from any parent directory, silently.
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
            }
            None => figment,
        };
        // `PHOTOSCALE_CONFIG` names the file itself, it is not a key.
        figment = figment.merge(env.ignore(NOT_CONFIGURATION_KEYS).split("__"));
        figment = figment.merge(Serialized::defaults(&sources.overrides));
        if let Some(format) = sources.overrides.log_format {
            figment = figment.merge(Serialized::default("log.format", format));
        }
        if let Some(id) = &sources.overrides.instance_id {
            figment = figment.merge(Serialized::default("instance.id", id));
        }
        let settings: Settings = figment.extract().map_err(describe_figment_error)?;
        settings.validate()?;
        Ok(settings)
    }

    /// The effective configuration as TOML, with secrets replaced by a marker.
    pub fn to_redacted_toml(&self) -> String {
        let mut value = toml::Value::try_from(self).expect("settings always serialize");
        let set = |table: &mut toml::Value, section: &str, key: &str, text: String| {
            if let Some(t) = table.get_mut(section).and_then(|s| s.as_table_mut()) {
                t.insert(key.into(), toml::Value::String(text));
            }
        };
        let url = redact_url_password(self.database_url().expose_secret());
        set(&mut value, "database", "url", url);
        let key = match self.sessions.key {
            Some(_) => "[redacted]".to_owned(),
            None => format!(
                "[generated, kept in {}]",
                self.data_dir.join("session.key").display()
            ),
        };
        set(&mut value, "sessions", "key", key);
        if let Some(url) = &self.sessions.url {
            set(
                &mut value,
                "sessions",
                "url",
                redact_url_password(url.expose_secret()),
            );
        }
        if let Some(url) = &self.cache.url {
            set(
                &mut value,
                "cache",
                "url",
                redact_url_password(url.expose_secret()),
            );
        }
        if self.admin.token.is_some() {
            set(&mut value, "admin", "token", "[redacted]".to_owned());
        }
        if self.storage.s3.secret_access_key.is_some() {
            if let Some(s3) = value.get_mut("storage") {
                set(s3, "s3", "secret_access_key", "[redacted]".to_owned());
            }
        }
        toml::to_string_pretty(&value).expect("toml values always print")
    }
}

fn ensure_readable(path: &Path) -> Result<(), ConfigError> {
    std::fs::read(path)
        .map(drop)
        .map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })
}

/// Turns figment's errors into one message per problem, each naming the key as
/// the user wrote it (`feed.size` or `PHOTOSCALE_FEED__SIZE`) and a fix.
fn describe_figment_error(error: figment::Error) -> ConfigError {
    let lines: Vec<String> = error.into_iter().map(|e| describe_one(&e)).collect();
    ConfigError::Figment(lines.join("\n"))
}

fn describe_one(error: &figment::Error) -> String {
    use figment::error::Kind;
    let key = error.path.join(".");
    let (written_as, source) = match &error.metadata {
        Some(meta) => {
            let profile = error.profile.clone().unwrap_or_default();
            let written = meta.interpolate(&profile, &error.path);
            let source = match &meta.source {
                Some(source) => format!("{} {source}", meta.name),
                None => meta.name.to_string(),
            };
            (written, source)
        }
        None => (key.clone(), "defaults".to_owned()),
    };
    match &error.kind {
        // figment's path already ends with the unknown field's name.
        Kind::UnknownField(_, expected) => format!(
            "unknown key `{key}` (from {source})\n  fix: remove it or correct the spelling; keys allowed here: {}",
            expected.join(", ")
        ),
        _ => format!(
            "`{written_as}` (from {source}): {}\n  fix: correct the value; see the configuration reference in README.md",
            error.kind
        ),
    }
}

/// `mysql://user:secret@host/db` becomes `mysql://user:[redacted]@host/db`;
/// a password in the query string (`?password=...`, `?auth=...`) is hidden
/// too. Parsed with a real URL parser, so a password holding `@` or `:`
/// cannot leak its tail; a URL that does not parse is hidden whole.
pub fn redact_url_password(raw: &str) -> String {
    const HIDDEN: &str = "[redacted]";
    let Ok(mut url) = url::Url::parse(raw) else {
        return format!("{HIDDEN} (not a valid URL)");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some(HIDDEN));
    }
    if url.query().is_some() {
        let secret_key = |key: &str| {
            let key = key.to_ascii_lowercase();
            [
                "password", "passwd", "pwd", "pass", "secret", "token", "auth", "key",
            ]
            .iter()
            .any(|s| key.contains(s))
        };
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_key(&k) {
                    HIDDEN.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // The URL parser percent-encodes the brackets; show them as written.
    url.to_string().replace("%5Bredacted%5D", HIDDEN)
}

#[cfg(test)]
// `figment::Jail` closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    fn load_toml(toml: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photoscale.toml");
        std::fs::write(&path, toml).unwrap();
        let sources = ConfigSources {
            file: Some(path),
            overrides: CliOverrides::default(),
        };
        Settings::load_with_env(&sources, Env::prefixed("PHOTOSCALE_TEST_UNUSED_"))
    }

    #[test]
    fn defaults_are_the_embedded_level_zero() {
        let s = load_toml("").unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.feed.size, 10);
        assert_eq!(s.uploads.max_bytes, 10 * 1024 * 1024);
        assert_eq!(s.sessions.backend, SessionBackend::Cookie);
        assert!(s.database_url().expose_secret().starts_with("sqlite://"));
    }

    #[test]
    fn the_orphan_grace_must_cover_a_slow_insert_and_its_check() {
        let toml = "[database]\nquery_timeout = \"5s\"\n[storage]\norphan_grace = \"8s\"\n";
        let err = load_toml(toml).unwrap_err().to_string();
        assert!(err.contains("storage.orphan_grace"), "{err}");
        assert!(err.contains("twice database.query_timeout (5s)"), "{err}");
        let toml = "[database]\nquery_timeout = \"5s\"\n[storage]\norphan_grace = \"10s\"\n";
        assert_eq!(
            load_toml(toml).unwrap().storage.orphan_grace,
            Duration::from_secs(10)
        );
    }

    #[test]
    fn unknown_key_is_named_with_a_fix() {
        let err = load_toml("[feed]\nsise = 3\n").unwrap_err().to_string();
        assert!(err.contains("unknown key `feed.sise`"), "{err}");
        assert!(err.contains("size"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = load_toml("[feed]\nsize = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("feed.size"), "{err}");
        assert!(err.contains("fix:"), "{err}");
    }

    #[test]
    fn out_of_range_value_names_the_key() {
        let err = load_toml("[feed]\nsize = 0\n").unwrap_err().to_string();
        assert!(err.contains("`feed.size`"), "{err}");
    }

    #[test]
    fn bad_limits_name_the_key_and_the_fix() {
        for (toml, key) in [
            (
                "[limits]\nsignups_per_address = 0\n",
                "limits.signups_per_address",
            ),
            ("[limits]\nfirst_wait = \"0s\"\n", "limits.first_wait"),
            (
                "[limits]\nfirst_wait = \"1h\"\nmax_wait = \"1m\"\n",
                "limits.max_wait",
            ),
            ("[limits]\nfirst_wait = \"soon\"\n", "limits.first_wait"),
        ] {
            let err = load_toml(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
        let relaxed = load_toml("[limits]\nsignups_per_address = 1000000\n").unwrap();
        assert_eq!(relaxed.limits.signups_per_address, 1_000_000);
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let sources = ConfigSources {
            file: Some("/nonexistent/photoscale.toml".into()),
            ..Default::default()
        };
        let err = Settings::load(&sources).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/photoscale.toml"), "{err}");
    }

    #[test]
    fn environment_beats_file_and_flags_beat_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("photoscale.toml", "latency = \"1s\"\n[feed]\nsize = 3\n")?;
            jail.set_env("PHOTOSCALE_FEED__SIZE", "7");
            jail.set_env("PHOTOSCALE_LATENCY", "2s");
            let sources = ConfigSources {
                file: None,
                overrides: CliOverrides {
                    latency: Some("3s".into()),
                    ..Default::default()
                },
            };
            let s = Settings::load(&sources).map_err(|e| e.to_string())?;
            assert_eq!(s.feed.size, 7);
            assert_eq!(s.latency, Duration::from_secs(3));
            Ok(())
        });
    }

    #[test]
    fn a_file_in_a_parent_directory_is_not_read_but_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("photoscale.toml", "[feed]\nsize = 3\n")?;
            std::fs::create_dir("sub").map_err(|e| e.to_string())?;
            jail.change_dir("sub")?;
            let s = Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
            assert_eq!(s.feed.size, 10, "the parent's file is not applied");
            let ignored = ignored_parent_config(&ConfigSources::default());
            assert_eq!(
                ignored.map(|p| p.canonicalize().unwrap()),
                Some(
                    jail.directory()
                        .join("photoscale.toml")
                        .canonicalize()
                        .unwrap()
                )
            );
            jail.create_file("photoscale.toml", "[feed]\nsize = 4\n")?;
            let s = Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
            assert_eq!(s.feed.size, 4, "the current directory's file is");
            assert_eq!(ignored_parent_config(&ConfigSources::default()), None);
            Ok(())
        });
    }

    #[test]
    fn unknown_environment_variable_is_named() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PHOTOSCALE_FEED__SIZ", "7");
            let err = Settings::load(&ConfigSources::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("feed.siz"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn command_line_variables_are_not_taken_for_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PHOTOSCALE_STATE_DIR", "/tmp/stack");
            jail.set_env("PHOTOSCALE_PROGRAM_PATH", "/opt/bin");
            jail.set_env("PHOTOSCALE_CONFIG", "photoscale.toml");
            jail.create_file("photoscale.toml", "")?;
            Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn url_passwords_are_redacted_whatever_they_hold() {
        for (url, secret) in [
            ("mysql://app:hunter2@db:3306/p", "hunter2"),
            ("mysql://app:p%40ss@word@db:3306/p", "word"),
            ("postgres://app:a:b@c@db/p", "a:b"),
            ("redis://:s3cret@cache:6379/0", "s3cret"),
            ("postgres://db/p?user=app&password=qwerty", "qwerty"),
            ("memcache://cache:11211?auth=tok3n", "tok3n"),
        ] {
            let shown = redact_url_password(url);
            assert!(!shown.contains(secret), "{url} shows as {shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        assert_eq!(
            redact_url_password("mysql://app:hunter2@db:3306/p"),
            "mysql://app:[redacted]@db:3306/p"
        );
        assert_eq!(
            redact_url_password("sqlite://data/p.db"),
            "sqlite://data/p.db"
        );
        assert!(!redact_url_password("not a url hunter2").contains("hunter2"));
    }

    #[test]
    fn redacted_output_hides_secrets() {
        let mut s = Settings::default();
        s.sessions.key = Some(SecretString::from("k".repeat(40)));
        s.database.url = Some(SecretString::from("mysql://app:hunter2@db/photos"));
        let shown = s.to_redacted_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&"k".repeat(40)), "{shown}");
        assert!(
            shown.contains("mysql://app:[redacted]@db/photos"),
            "{shown}"
        );
    }

    /// The key and the fix named in the error for `toml`.
    fn rejection(toml: &str) -> String {
        load_toml(toml).unwrap_err().to_string()
    }

    #[test]
    fn every_backend_is_chosen_by_name() {
        let s = load_toml(
            r#"
            [database]
            url = "postgres://app:pw@db:5432/photos"
            [storage]
            backend = "shared"
            path = "/mnt/photos"
            [sessions]
            backend = "redis"
            url = "redis://cache:6379/0"
            [cache]
            backend = "memcached"
            url = "memcache://cache:11211"
            ttl = "30s"
            [admin]
            token = "0123456789abcdef0123"
            "#,
        )
        .unwrap();
        assert_eq!(s.storage.backend, StorageBackend::Shared);
        assert_eq!(s.sessions.backend, SessionBackend::Redis);
        assert_eq!(s.cache.backend, CacheBackend::Memcached);
        assert_eq!(s.cache.ttl, Duration::from_secs(30));
    }

    #[test]
    fn backends_without_their_settings_are_refused_with_a_fix() {
        let cases = [
            ("[storage]\nbackend = \"shared\"", "storage.path"),
            ("[sessions]\nbackend = \"memcached\"", "sessions.url"),
            (
                "[sessions]\nbackend = \"redis\"\nurl = \"memcache://h:1\"",
                "sessions.url",
            ),
            ("[cache]\nbackend = \"redis\"", "cache.url"),
            ("[database]\nurl = \"oracle://db/x\"", "database.url"),
            ("[admin]\ntoken = \"short\"", "admin.token"),
            (
                "[storage]\ncdn_base_url = \"cdn.example.com\"",
                "storage.cdn_base_url",
            ),
            ("[sessions]\nbackend = \"postgres\"", "sessions.backend"),
            ("[cache]\nbackend = \"disk\"", "cache.backend"),
        ];
        for (toml, key) in cases {
            let message = rejection(toml);
            assert!(message.contains(key), "{toml}: {message}");
            assert!(
                message.contains("fix") || message.contains("expected"),
                "{toml}: {message}"
            );
        }
    }

    #[test]
    fn s3_needs_a_bucket() {
        let message = rejection("[storage]\nbackend = \"s3\"");
        assert!(message.contains("storage.s3.bucket"), "{message}");
    }

    #[test]
    fn server_urls_and_the_admin_token_are_redacted() {
        let mut s = Settings::default();
        s.sessions.url = Some(SecretString::from("redis://:sessionpw@cache:6379/0"));
        s.cache.url = Some(SecretString::from("redis://user:cachepw@cache:6379/1"));
        s.admin.token = Some(SecretString::from("admintoken-0123456789"));
        let shown = s.to_redacted_toml();
        for secret in ["sessionpw", "cachepw", "admintoken-0123456789"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("redis://user:[redacted]@cache:6379/1"),
            "{shown}"
        );
    }
}
