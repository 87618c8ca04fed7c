//! Loading the layers: built-in defaults < `photoscale.toml` <
//! `PHOTOSCALE_*` environment variables < command-line flags, and the
//! errors that name the key as the user wrote it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::Serialize;

use super::{LogFormat, Settings, DEFAULT_CONFIG_FILE, ENV_PREFIX, NOT_CONFIGURATION_KEYS};

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

    pub(super) fn load_with_env(
        sources: &ConfigSources,
        env: Env,
    ) -> Result<Settings, ConfigError> {
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
