//! HAProxy in front of the instances: started with a checked configuration,
//! kept in step with the fleet through its runtime API, and `up` returns
//! only once it reports every instance UP.

use std::net::SocketAddrV4;
use std::time::Duration;

use super::haproxy::admin_socket;
use super::{
    address_of, fingerprint, haproxy, services, wait_for_port, wanted_ids, watched, write_private,
    Launch, LocalError, Run, RuntimeApi, START_LIMIT, STOP_GRACE,
};
use crate::local::process;

impl Run<'_> {
    pub(super) async fn ensure_haproxy(&mut self) -> Result<(), LocalError> {
        let lb = self
            .spec
            .load_balancer
            .as_ref()
            .expect("level with a load balancer");
        let entry = self.addresses.entry;
        let socket = admin_socket(&self.state_dir);
        let servers: Vec<(String, SocketAddrV4)> =
            wanted_ids(self.spec, self.state.instances.keys())
                .into_iter()
                .filter_map(|id| address_of(&id, self.addresses).map(|a| (id, a)))
                .collect();
        let dir = self.state_dir.dir("haproxy");
        let config_path = dir.join("haproxy.cfg");
        let config = haproxy::config(lb, entry, &socket, &servers);
        write_private(&config_path, config.as_bytes())?;
        let launch = Launch::new(services::find("haproxy")?, dir.join("haproxy.log"))
            .args(["-W", "-db", "-f"])
            .arg(config_path.display().to_string());
        // Only the settings, not the servers: those change at run time.
        let print = fingerprint(&launch, &haproxy::base_config(lb, entry, &socket));
        let step;
        if self.is_current(false, "haproxy", &print).await {
            step = self.progress.step("haproxy", "checking its servers");
            self.sync_servers(&servers).await?;
        } else {
            step = self
                .progress
                .step("haproxy", &format!("starting on {entry}"));
            let replacing = self.state.components.remove("haproxy");
            if let Some(old) = &replacing {
                process::stop_for_replacement(old, STOP_GRACE, entry).await;
            }
            check_config(&config_path).await?;
            let running = self.spawn(false, "haproxy", &launch, entry, print)?;
            step.waiting(&format!("port {entry}"));
            wait_for_port(&watched("haproxy", &running), entry, START_LIMIT).await?;
            let list = if replacing.is_some() {
                &mut self.report.replaced
            } else {
                &mut self.report.started
            };
            list.push("haproxy".into());
        }
        step.waiting("every instance to pass its health check");
        self.wait_for_servers_up(lb).await?;
        step.done(&format!("{} instance(s) up behind {entry}", servers.len()));
        Ok(())
    }

    /// Adds missing instances to a running HAProxy and removes unknown ones.
    async fn sync_servers(&self, servers: &[(String, SocketAddrV4)]) -> Result<(), LocalError> {
        let lb = self.spec.load_balancer.as_ref().expect("a load balancer");
        let api = RuntimeApi::new(admin_socket(&self.state_dir));
        let known = api.servers().await?;
        for (id, address) in servers {
            if !known.iter().any(|s| &s.name == id) {
                api.add_server(id, *address, lb).await?;
            }
        }
        for server in known
            .iter()
            .filter(|s| !servers.iter().any(|(id, _)| *id == s.name))
        {
            api.remove_server(&server.name).await?;
        }
        Ok(())
    }

    async fn wait_for_servers_up(&self, lb: &crate::spec::LoadBalancer) -> Result<(), LocalError> {
        let api = RuntimeApi::new(admin_socket(&self.state_dir));
        let hc = &lb.health_check;
        let limit = Duration::from_millis(hc.interval_ms * u64::from(hc.rise + 2))
            + Duration::from_secs(10);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let servers = api.servers().await?;
            let down: Vec<String> = servers
                .iter()
                .filter(|s| !s.is_up())
                .map(|s| format!("{} is {}", s.name, s.status))
                .collect();
            if down.is_empty() && !servers.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let log = self.state_dir.root().join("haproxy/haproxy.log");
                return Err(LocalError::NotReady {
                    component: "haproxy".into(),
                    waiting_for: format!(
                        "every instance to pass its health check ({})",
                        down.join(", ")
                    ),
                    tail: process::log_tail(&log, 15),
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// `haproxy -c`: a configuration error is reported before anything changes.
async fn check_config(path: &std::path::Path) -> Result<(), LocalError> {
    let output = tokio::process::Command::new(services::find("haproxy")?)
        .args(["-c", "-f"])
        .arg(path)
        .output()
        .await
        .map_err(|source| LocalError::Spawn {
            component: "haproxy".into(),
            program: "haproxy".into(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(LocalError::Command {
        what: format!("checking {}", path.display()),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}
