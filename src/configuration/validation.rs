//! Checks that go beyond types: ranges, relationships between keys, and
//! each backend's required keys, each refusal naming the key and a fix.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{CacheBackend, ConfigError, SessionBackend, Settings, StorageBackend};

impl Settings {
    /// Checks that go beyond types: ranges and relationships between keys.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
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
