//! The app's configuration file (`photoscale.toml`) as a stack writes it
//! for its instances: one type, serialised by one writer, filled in by
//! each provider (the local one in `local/instances.rs`, the AWS one in
//! `aws/user_data.rs`). The keys are the app's own (see the app's
//! `configuration/settings.rs`); what a section leaves out keeps the
//! app's default.

use serde::Serialize;

use crate::spec::{Cache, Sessions};

/// The sections in key order, each backend first: the file reads the same
/// however it is made, and a stack whose settings did not change writes
/// the same bytes (so its instances are not restarted).
#[derive(Debug, Default, Serialize)]
pub struct AppConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSection>,
    pub cache: ServerBackedSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSection>,
    pub sessions: ServerBackedSection,
    pub storage: StorageSection,
}

#[derive(Debug, Serialize)]
pub struct AdminSection {
    pub token: String,
}

#[derive(Debug, Default, Serialize)]
pub struct BackupSection {
    /// e.g. "600s"
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<BucketSection>,
}

#[derive(Debug, Serialize)]
pub struct BucketSection {
    pub bucket: String,
    pub region: String,
}

/// `[sessions]` or `[cache]`: a backend, maybe on a server.
#[derive(Debug, Default, Serialize)]
pub struct ServerBackedSection {
    pub backend: &'static str,
    /// The server, for a backend on memcached or Redis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The session signing key (sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Sessions only: a Secure cookie never comes back over plain HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_cookie: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseSection {
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct LimitsSection {
    pub login_failures_per_address: u32,
    pub signups_per_address: u32,
}

#[derive(Debug, Serialize)]
pub struct ServerSection {
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct StorageSection {
    pub backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Section>,
}

#[derive(Debug, Default, Serialize)]
pub struct S3Section {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    pub bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

impl AppConfigFile {
    /// The file's text, after a first comment line.
    pub fn to_toml(&self, comment: &str) -> String {
        format!(
            "# {comment}\n{}",
            toml::to_string(self).expect("the configuration serialises")
        )
    }
}

/// The app's name for a session store.
pub fn sessions_backend(sessions: Sessions) -> &'static str {
    match sessions {
        Sessions::Memory => "memory",
        Sessions::Cookie => "cookie",
        Sessions::Memcached => "memcached",
        Sessions::Redis => "redis",
    }
}

/// The app's name for a feed cache.
pub fn cache_backend(cache: Cache) -> &'static str {
    match cache {
        Cache::None => "none",
        Cache::Memcached => "memcached",
        Cache::Redis => "redis",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_come_out_in_key_order_with_what_is_unset_left_out() {
        let file = AppConfigFile {
            bind: Some("0.0.0.0:8080".into()),
            cache: ServerBackedSection {
                backend: cache_backend(Cache::Redis),
                url: Some("redis://10.0.0.9:6379/1".into()),
                ..Default::default()
            },
            sessions: ServerBackedSection {
                backend: sessions_backend(Sessions::Cookie),
                secure_cookie: Some(false),
                ..Default::default()
            },
            storage: StorageSection {
                backend: "s3",
                s3: Some(S3Section {
                    bucket: "photos".into(),
                    region: "eu-west-1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            file.to_toml("written by a test"),
            "# written by a test\nbind = \"0.0.0.0:8080\"\n\n[cache]\nbackend = \"redis\"\nurl = \"redis://10.0.0.9:6379/1\"\n\n[sessions]\nbackend = \"cookie\"\nsecure_cookie = false\n\n[storage]\nbackend = \"s3\"\n\n[storage.s3]\nbucket = \"photos\"\nregion = \"eu-west-1\"\n"
        );
    }
}
