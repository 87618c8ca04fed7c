//! Where S3 storage gets its key pair, in the order the AWS SDKs look:
//! the configuration file's keys (an S3-compatible server's), the
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), the shared credentials file's static keys
//! (`~/.aws/credentials`, profile `AWS_PROFILE` or `default`), and on EC2
//! the instance role through the metadata service (IMDSv2), refreshed
//! before it expires. SSO and `credential_process` profiles are not read.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusty_s3::Credentials;
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::configuration::S3Settings;

/// The metadata service's address (the SDKs' variable overrides it).
const IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// Role credentials are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

#[derive(Clone)]
pub enum CredentialSource {
    Fixed(Arc<Credentials>),
    InstanceRole(Arc<InstanceRole>),
}

impl std::fmt::Debug for CredentialSource {
    // Never the keys themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl CredentialSource {
    /// The first source that has credentials; the instance role is tried
    /// last, and only answers on EC2.
    pub async fn find(settings: &S3Settings) -> anyhow::Result<Self> {
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            return Ok(Self::Fixed(Arc::new(Credentials::new(
                id,
                secret.expose_secret(),
            ))));
        }
        if let Some(credentials) = from_environment() {
            return Ok(Self::Fixed(Arc::new(credentials)));
        }
        if let Some(credentials) = from_shared_file()? {
            return Ok(Self::Fixed(Arc::new(credentials)));
        }
        if std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        {
            anyhow::bail!(no_credentials(
                "the metadata service is disabled (AWS_EC2_METADATA_DISABLED)"
            ));
        }
        let endpoint = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|_| IMDS_ENDPOINT.into());
        let role = InstanceRole::at(&endpoint);
        role.fetch()
            .await
            .map_err(|e| anyhow::anyhow!(no_credentials(&e.to_string())))?;
        Ok(Self::InstanceRole(Arc::new(role)))
    }

    /// Credentials valid for at least a few minutes more.
    pub async fn current(&self) -> anyhow::Result<Arc<Credentials>> {
        match self {
            Self::Fixed(credentials) => Ok(credentials.clone()),
            Self::InstanceRole(role) => role.current().await,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Fixed(_) => "fixed S3 credentials",
            Self::InstanceRole(_) => "S3 credentials of the instance role",
        }
    }
}

fn no_credentials(why: &str) -> String {
    format!(
        "no S3 credentials: {why}\n  fix: set storage.s3.access_key_id and storage.s3.secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or keys in ~/.aws/credentials, or run on EC2 with an instance role"
    )
}

fn from_environment() -> Option<Credentials> {
    let key = std::env::var("AWS_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok()?;
    Some(match std::env::var("AWS_SESSION_TOKEN") {
        Ok(token) => Credentials::new_with_token(key, secret, token),
        Err(_) => Credentials::new(key, secret),
    })
}

/// Static keys of the profile in the shared credentials file, if any.
fn from_shared_file() -> anyhow::Result<Option<Credentials>> {
    let path = match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(path) => PathBuf::from(path),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".aws/credentials"),
            None => return Ok(None),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    Ok(profile_keys(&text, &profile))
}

/// `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token`
/// of `[profile]` in an INI text.
fn profile_keys(text: &str, profile: &str) -> Option<Credentials> {
    let (mut key, mut secret, mut token) = (None, None, None);
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        let Some((name, value)) = line.split_once('=').filter(|_| in_profile) else {
            continue;
        };
        let value = value.trim().to_owned();
        match name.trim() {
            "aws_access_key_id" => key = Some(value),
            "aws_secret_access_key" => secret = Some(value),
            "aws_session_token" => token = Some(value),
            _ => {}
        }
    }
    match (key?, secret?, token) {
        (key, secret, Some(token)) => Some(Credentials::new_with_token(key, secret, token)),
        (key, secret, None) => Some(Credentials::new(key, secret)),
    }
}

/// The instance role's credentials from IMDSv2, kept until shortly
/// before they expire.
pub struct InstanceRole {
    http: reqwest::Client,
    endpoint: String,
    cached: Mutex<Option<(Arc<Credentials>, SystemTime)>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: String,
    expiration: String,
}

impl InstanceRole {
    /// The metadata service at `endpoint` (tests point it at moto's).
    pub fn at(endpoint: &str) -> Self {
        Self {
            // Off EC2 nothing answers: give up quickly.
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a client without TLS settings builds"),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            cached: Mutex::new(None),
        }
    }

    pub async fn current(&self) -> anyhow::Result<Arc<Credentials>> {
        {
            let cached = self.cached.lock().await;
            if let Some((credentials, expires)) = cached.as_ref() {
                if SystemTime::now() + RENEW_BEFORE < *expires {
                    return Ok(credentials.clone());
                }
            }
        }
        self.fetch().await
    }

    async fn fetch(&self) -> anyhow::Result<Arc<Credentials>> {
        let mut cached = self.cached.lock().await;
        let token = self
            .http
            .put(format!("{}/latest/api/token", self.endpoint))
            .header("X-aws-ec2-metadata-token-ttl-seconds", "300")
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let get = |path: &str| {
            self.http
                .get(format!(
                    "{}/latest/meta-data/iam/security-credentials/{path}",
                    self.endpoint
                ))
                .header("X-aws-ec2-metadata-token", &token)
        };
        let roles = get("").send().await?.error_for_status()?.text().await?;
        let Some(role) = roles.lines().next().filter(|r| !r.is_empty()) else {
            anyhow::bail!("the instance has no role");
        };
        let answer: RoleCredentials = get(role).send().await?.error_for_status()?.json().await?;
        let expires = humantime::parse_rfc3339_weak(&answer.expiration).map_err(|e| {
            anyhow::anyhow!(
                "the metadata service's expiration {:?}: {e}",
                answer.expiration
            )
        })?;
        let credentials = Arc::new(Credentials::new_with_token(
            answer.access_key_id,
            answer.secret_access_key,
            answer.token,
        ));
        *cached = Some((credentials.clone(), expires));
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profiles_static_keys_are_read() {
        let text = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=s2\naws_session_token=t2\n";
        let default = profile_keys(text, "default").unwrap();
        assert_eq!(
            (default.key(), default.secret(), default.token()),
            ("AKIDDEFAULT", "s1", None)
        );
        let work = profile_keys(text, "work").unwrap();
        assert_eq!((work.key(), work.token()), ("AKIDWORK", Some("t2")));
        assert!(profile_keys(text, "missing").is_none());
        assert!(profile_keys("[sso]\nsso_start_url = https://x\n", "sso").is_none());
    }

    #[test]
    fn the_source_never_shows_its_keys() {
        let source = CredentialSource::Fixed(Arc::new(Credentials::new("AKIDSECRETID", "hush")));
        let shown = format!("{source:?}");
        assert!(
            !shown.contains("AKIDSECRETID") && !shown.contains("hush"),
            "{shown}"
        );
    }
}
