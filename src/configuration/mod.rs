//! Layered configuration: built-in defaults < `photoscale.toml` < `PHOTOSCALE_*`
//! environment variables < command-line flags.
//!
//! Every section rejects unknown keys, so a typo stops start-up with a message
//! that names the key and where it came from instead of being silently ignored.

mod backup;
mod infra;
mod limits;
mod loading;
mod redaction;
mod settings;
#[cfg(test)]
mod tests;
mod validation;

pub use backup::BackupSettings;
pub use infra::InfraSettings;
pub use limits::LimitSettings;
pub use loading::{
    ignored_parent_config, warn_if_parent_config_ignored, CliOverrides, ConfigError, ConfigSources,
};
pub use redaction::redact_url_password;
pub use settings::*;

/// The file read when `--config` is not given (it may be absent).
pub const DEFAULT_CONFIG_FILE: &str = "photoscale.toml";
/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "PHOTOSCALE_";
/// `PHOTOSCALE_*` variables that are command-line defaults, not keys:
/// PHOTOSCALE_CONFIG (--config), PHOTOSCALE_STATE_DIR (--state-dir) and
/// PHOTOSCALE_PROGRAM_PATH (where `infra` looks for servers).
const NOT_CONFIGURATION_KEYS: &[&str] = &["config", "state_dir", "program_path"];
