//! Starting (or restarting) one of photoscale's own helper processes that
//! every run of `up` keeps current: the autoscaler (level 3 and up) and the
//! fleet view (every level).

use std::net::SocketAddrV4;

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
        let launch = Launch::new(
            self.app_program.clone(),
            self.state_dir.dir("autoscaler").join("autoscaler.log"),
        )
        .args(["infra", "autoscaler", "--state-dir"])
        .arg(self.state_dir.root().display().to_string());
        let path = autoscaler::assignment_path(self.state_dir.root());
        self.ensure_helper("autoscaler", launch, address, &text, || {
            write_private(&path, text.as_bytes())
        })
        .await
    }

    /// Starts the fleet view (`infra fleet`) on the stack's 16th port.
    pub(super) async fn ensure_fleet_view(&mut self) -> Result<(), LocalError> {
        let Some(address) = self.addresses.fleet else {
            return Ok(());
        };
        let launch = Launch::new(
            self.app_program.clone(),
            self.state_dir.dir("fleet").join("fleet.log"),
        )
        .args(["infra", "fleet", "--bind"])
        .arg(address.to_string())
        .arg("--state-dir")
        .arg(self.state_dir.root().display().to_string());
        self.ensure_helper("fleet", launch, address, "", || Ok(()))
            .await
    }

    /// Keeps component `name` running as `launch` says (with `input`, a file
    /// it reads, part of its fingerprint); `before` runs just before a start.
    async fn ensure_helper(
        &mut self,
        name: &str,
        launch: Launch,
        address: SocketAddrV4,
        input: &str,
        before: impl FnOnce() -> Result<(), LocalError>,
    ) -> Result<(), LocalError> {
        let print = fingerprint(&launch, input);
        if self.is_current(false, name, &print).await {
            return Ok(());
        }
        let step = self.progress.step(name, &format!("starting on {address}"));
        let replacing = self.state.components.remove(name);
        if let Some(old) = &replacing {
            process::stop_for_replacement(old, STOP_GRACE, address).await;
        }
        let result = async {
            before()?;
            let running = self.spawn(false, name, &launch, address, print)?;
            step.waiting(&format!("port {address}"));
            wait_for_port(&watched(name, &running), address, START_LIMIT).await?;
            Ok(running.pid)
        }
        .await;
        self.finish_step(step, name, replacing.is_some(), address, result)
    }
}
