//! The app's configuration as a command loads it: the file (`--config`,
//! else ./photoscale.toml), the environment, then the command's flags.

use std::path::PathBuf;

use crate::configuration::{warn_if_parent_config_ignored, CliOverrides, ConfigSources, Settings};

pub fn load(file: Option<PathBuf>, overrides: CliOverrides) -> anyhow::Result<Settings> {
    let sources = ConfigSources { file, overrides };
    warn_if_parent_config_ignored(&sources);
    Ok(Settings::load(&sources)?)
}

/// The configuration in `file`, with its data directory moved to `data_dir`.
pub fn load_with_data_dir(file: PathBuf, data_dir: Option<PathBuf>) -> anyhow::Result<Settings> {
    let overrides = CliOverrides {
        data_dir,
        ..Default::default()
    };
    load(Some(file), overrides)
}
