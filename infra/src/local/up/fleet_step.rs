//! Starting (or restarting) the stack's fleet view: `photoscale infra
//! fleet` on the stack's 16th port, part of every level, so that the live
//! picture of the stack is one address away whatever runs.

use super::{
    fingerprint, wait_for_port, watched, Launch, LocalError, Run, START_LIMIT, STOP_GRACE,
};
use crate::local::process;

impl Run<'_> {
    pub(super) async fn ensure_fleet_view(&mut self) -> Result<(), LocalError> {
        let Some(address) = self.addresses.fleet else {
            return Ok(());
        };
        let dir = self.state_dir.dir("fleet");
        let launch = Launch::new(self.app_program.clone(), dir.join("fleet.log"))
            .args(["infra", "fleet", "--bind"])
            .arg(address.to_string())
            .arg("--state-dir")
            .arg(self.state_dir.root().display().to_string());
        let print = fingerprint(&launch, "");
        if self.is_current(false, "fleet", &print).await {
            return Ok(());
        }
        let step = self
            .progress
            .step("fleet", &format!("starting the fleet view on {address}"));
        let replacing = self.state.components.remove("fleet");
        if let Some(old) = &replacing {
            process::stop_for_replacement(old, STOP_GRACE, address).await;
        }
        let result = async {
            let running = self.spawn(false, "fleet", &launch, address, print)?;
            step.waiting(&format!("port {address}"));
            wait_for_port(&watched("fleet", &running), address, START_LIMIT).await?;
            Ok(running.pid)
        }
        .await;
        self.finish_step(step, "fleet", replacing.is_some(), address, result)
    }
}
