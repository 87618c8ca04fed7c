//! Moving users and photos when a level changes where they live.

use super::{instances, write_private, LocalError, Run};

impl Run<'_> {
    /// Copies users and photos when the level moves them to another
    /// database or store, while the old one still runs.
    pub(super) async fn move_data_if_needed(
        &mut self,
        previous_config: &str,
    ) -> Result<(), LocalError> {
        let Some(before) = &self.state.spec else {
            return Ok(());
        };
        if before.database == self.spec.database && before.storage == self.spec.storage {
            return Ok(());
        }
        let step = self
            .progress
            .step("data", "copying users and photos to the new level");
        let app_dir = self.state_dir.dir("app");
        let from = app_dir.join("previous.toml");
        write_private(&from, previous_config.as_bytes())?;
        let data_dir = instances::data_dir(self.state_dir.root(), "i-1");
        let output = tokio::process::Command::new(&self.app_program)
            .args(["data", "copy", "--from"])
            .arg(&from)
            .arg("--from-data-dir")
            .arg(&data_dir)
            .arg("--to")
            .arg(self.app_config_path())
            .arg("--to-data-dir")
            .arg(&data_dir)
            .envs(instances::app_env(&self.secrets))
            .output()
            .await
            .map_err(|source| LocalError::Spawn {
                component: "data".into(),
                program: self.app_program.display().to_string(),
                source,
            })?;
        let _ = std::fs::remove_file(&from);
        if !output.status.success() {
            step.failed("see below");
            return Err(LocalError::Command {
                what: "copying users and photos to the new level".into(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        step.done(String::from_utf8_lossy(&output.stdout).trim());
        Ok(())
    }
}
