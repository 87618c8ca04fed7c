//! Starting (or restarting) the autoscaler of a level 3+ stack.

use super::{
    autoscaler, fingerprint, wait_for_port, watched, write_private, Launch, LocalError, Run,
    START_LIMIT, STOP_GRACE,
};
use crate::local::process;

impl Run<'_> {
    /// Starts the autoscaler, or restarts it when its assignment changed.
    pub(super) async fn ensure_autoscaler(&mut self) -> Result<(), LocalError> {
        let address = self
            .addresses
            .autoscaler
            .expect("level 3 has an autoscaler address");
        let assignment = autoscaler::Assignment {
            spec: self.spec.clone(),
            addresses: self.addresses.clone(),
            app_program: self.app_program.clone(),
        };
        let text = serde_json::to_string_pretty(&assignment).expect("serialises");
        let dir = self.state_dir.dir("autoscaler");
        let launch = Launch::new(self.app_program.clone(), dir.join("autoscaler.log"))
            .args(["infra", "autoscaler", "--state-dir"])
            .arg(self.state_dir.root().display().to_string());
        let print = fingerprint(&launch, &text);
        if self.is_current(false, "autoscaler", &print).await {
            return Ok(());
        }
        let step = self
            .progress
            .step("autoscaler", &format!("starting on {address}"));
        let replacing = self.state.components.remove("autoscaler");
        if let Some(old) = &replacing {
            process::stop_for_replacement(old, STOP_GRACE, address).await;
        }
        let result = async {
            write_private(
                &autoscaler::assignment_path(self.state_dir.root()),
                text.as_bytes(),
            )?;
            let running = self.spawn(false, "autoscaler", &launch, address, print)?;
            step.waiting(&format!("port {address}"));
            wait_for_port(&watched("autoscaler", &running), address, START_LIMIT).await?;
            Ok(running.pid)
        }
        .await;
        self.finish_step(step, "autoscaler", replacing.is_some(), address, result)
    }
}
