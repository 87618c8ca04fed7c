//! `infra up`: bring what runs in line with the spec. Components that already
//! run as wanted are left alone (so `up` twice changes nothing); what the
//! spec no longer wants is stopped; what changed is replaced one instance at
//! a time behind the load balancer. If a step fails, what this run started is
//! stopped again and the error says why, with the end of the failing log.

use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::time::Duration;

use super::autoscaler;
use super::builds;
use super::deploy;
use super::haproxy::{self, admin_socket, RuntimeApi};
use super::health::{port_open, wait_for_healthz, wait_for_port, Watched};
use super::instances::{self, address_of, wanted_ids};
use super::process::{self, Launch};
use super::services::{self, Service};
use super::state::{write_private, Running, Secrets, StackState, StateDir};
use super::{fingerprint, start_process, LocalError};
use crate::doctor;
use crate::plan::Addresses;
use crate::progress::Progress;
use crate::spec::StackSpec;

mod data_move;
mod helper_step;
mod load_balancer;

pub struct UpOptions {
    pub state_dir: PathBuf,
    /// The `photoscale` binary the instances run.
    pub app_program: PathBuf,
    /// True when the user chose the fleet size (`--desired`); otherwise a
    /// running autoscaler's desired capacity is kept.
    pub desired_given: bool,
}

/// What `up` did, component by component.
#[derive(Debug, Clone, Default)]
pub struct UpReport {
    pub url: String,
    pub started: Vec<String>,
    pub replaced: Vec<String>,
    pub stopped: Vec<String>,
}

impl UpReport {
    /// True when `up` found everything as wanted.
    pub fn changed_nothing(&self) -> bool {
        self.started.is_empty() && self.replaced.is_empty() && self.stopped.is_empty()
    }
}

const STOP_GRACE: Duration = Duration::from_secs(15);
const START_LIMIT: Duration = Duration::from_secs(60);

pub async fn up(
    spec: &StackSpec,
    addresses: &Addresses,
    options: &UpOptions,
) -> Result<UpReport, LocalError> {
    // Before anything starts: is every program there?
    let report = doctor::check(spec);
    if !report.is_ready() {
        return Err(LocalError::Missing(format!(
            "cannot start level {}: something it needs is missing; nothing was started\n{}",
            spec.level,
            report.render()
        )));
    }
    let state_dir = StateDir::create(&options.state_dir)?;
    let _lock = state_dir.lock_waiting(Duration::from_secs(60)).await?;
    let secrets = state_dir.secrets()?;
    // The instances run the build as kept in the state directory.
    let deployed = builds::prepare(&state_dir, &options.app_program).await?;
    let state = state_dir.load()?;
    let spec = &keep_autoscaled_capacity(spec, &state_dir, &state, options);
    let mut run = Run {
        spec,
        addresses,
        app_program: options.app_program.clone(),
        instance_program: deployed.program.clone(),
        deployed: deployed.clone(),
        secrets,
        state,
        state_dir,
        progress: Progress::new(),
        report: UpReport {
            url: format!("http://{}", addresses.entry),
            ..Default::default()
        },
        started_now: Vec::new(),
    };
    match run.apply().await {
        Ok(()) => {
            run.state.spec = Some(spec.clone());
            run.state.entry = Some(addresses.entry);
            run.state_dir.save(&run.state)?;
            builds::record_deployed(&run.state_dir, &deployed)?;
            Ok(run.report)
        }
        Err(e) => {
            run.roll_back().await;
            Err(e)
        }
    }
}

/// At level 3 and up, a running autoscaler owns the fleet size: `up` keeps
/// its desired capacity unless `--desired` says otherwise.
fn keep_autoscaled_capacity(
    spec: &StackSpec,
    state_dir: &StateDir,
    state: &StackState,
    options: &UpOptions,
) -> StackSpec {
    let mut spec = spec.clone();
    let autoscaled = state
        .components
        .get("autoscaler")
        .is_some_and(process::is_ours);
    if spec.scaling.is_some() && autoscaled && !options.desired_given {
        if let Some(snapshot) = autoscaler::read_snapshot(state_dir.root()) {
            spec.fleet.desired = snapshot.desired.clamp(spec.fleet.min, spec.fleet.max);
        }
    }
    spec
}

struct Run<'a> {
    spec: &'a StackSpec,
    addresses: &'a Addresses,
    app_program: PathBuf,
    /// What the instances run: the deployed build (see `builds`).
    instance_program: PathBuf,
    deployed: builds::Deployed,
    secrets: Secrets,
    state: StackState,
    state_dir: StateDir,
    progress: Progress,
    report: UpReport,
    /// (is an instance, name) of what this run started, for a roll-back.
    started_now: Vec<(bool, String)>,
}

impl Run<'_> {
    async fn apply(&mut self) -> Result<(), LocalError> {
        self.stop_unwanted_front().await?;
        for service in Service::ALL {
            if let Some(address) = service.address(self.addresses) {
                self.ensure_service(service, address).await?;
            }
        }
        let previous_config = std::fs::read_to_string(self.app_config_path()).ok();
        let config = self.write_app_config()?;
        if let Some(previous) = previous_config {
            self.move_data_if_needed(&previous).await?;
        }
        self.roll_to_the_new_build().await?;
        for id in wanted_ids(self.spec, self.state.instances.keys()) {
            self.ensure_instance(&id, &config).await?;
        }
        if self.spec.load_balancer.is_some() {
            self.ensure_haproxy().await?;
        }
        if self.spec.scaling.is_some() {
            self.ensure_autoscaler().await?;
        }
        self.ensure_fleet_view().await?;
        // Last, once nothing uses them: the old level's servers.
        self.stop_unwanted_services().await?;
        Ok(())
    }

    /// A new build for a fleet behind the load balancer: the rolling
    /// replacement of `infra deploy` (each new instance healthy before an old
    /// one leaves; rolled back when one fails its health check). Without a
    /// load balancer, `ensure_instance` restarts the one instance instead.
    async fn roll_to_the_new_build(&mut self) -> Result<(), LocalError> {
        let Some(old) = builds::deployed(&self.state_dir) else {
            return Ok(());
        };
        let api = self.runtime_api();
        if old.build == self.deployed.build || self.spec.load_balancer.is_none() || api.is_none() {
            return Ok(());
        }
        let targets = wanted_ids(self.spec, self.state.instances.keys());
        let roll = deploy::Roll {
            dir: &self.state_dir,
            spec: self.spec,
            addresses: self.addresses,
            api,
            progress: Progress::new(),
            health_limit: START_LIMIT,
        };
        let replaced = roll
            .replace_all(&targets, &self.deployed, &old, 1, Duration::ZERO)
            .await?;
        self.state = self.state_dir.load()?;
        self.report
            .replaced
            .extend(replaced.into_iter().map(|(_, new_id)| new_id));
        Ok(())
    }

    /// Stops the load balancer and instances the spec no longer wants.
    async fn stop_unwanted_front(&mut self) -> Result<(), LocalError> {
        if self.spec.scaling.is_none() {
            self.stop_component("autoscaler").await;
        }
        let lb_address = self.state.components.get("haproxy").map(|r| r.address);
        let wanted_lb =
            self.spec.load_balancer.is_some() && lb_address == Some(self.addresses.entry);
        if !wanted_lb {
            self.stop_component("haproxy").await;
        }
        let wanted = wanted_ids(self.spec, self.state.instances.keys());
        let extra: Vec<String> = self
            .state
            .instances
            .keys()
            .filter(|id| !wanted.contains(id))
            .cloned()
            .collect();
        for id in extra {
            self.retire_instance(&id).await?;
        }
        self.save()
    }

    /// Stops the supporting servers the spec no longer wants.
    async fn stop_unwanted_services(&mut self) -> Result<(), LocalError> {
        for service in Service::ALL {
            let keep = match (
                service.address(self.addresses),
                self.state.components.get(service.name()),
            ) {
                (Some(want), Some(running)) => running.address == want,
                _ => false,
            };
            if !keep {
                self.stop_component(service.name()).await;
            }
        }
        self.save()
    }

    async fn stop_component(&mut self, name: &str) {
        if let Some(running) = self.state.components.remove(name) {
            let step = self.progress.step(name, "stopping");
            process::stop(&running, STOP_GRACE).await;
            step.done("stopped (not part of this level)");
            self.report.stopped.push(name.to_owned());
        }
    }

    /// Takes an instance out of the load balancer, lets it finish, stops it.
    async fn retire_instance(&mut self, id: &str) -> Result<(), LocalError> {
        let Some(running) = self.state.instances.remove(id) else {
            return Ok(());
        };
        let step = self.progress.step(id, "draining");
        if let Some(api) = self.runtime_api() {
            step.waiting("its requests to finish");
            api.retire(id).await?;
        }
        process::stop(&running, STOP_GRACE).await;
        step.done("stopped (beyond the fleet size)");
        self.report.stopped.push(id.to_owned());
        Ok(())
    }

    /// The runtime API of the stack's HAProxy, when one is running.
    fn runtime_api(&self) -> Option<RuntimeApi> {
        let running = self.state.components.get("haproxy")?;
        process::is_ours(running).then(|| RuntimeApi::new(admin_socket(&self.state_dir)))
    }

    async fn ensure_service(
        &mut self,
        service: Service,
        address: SocketAddrV4,
    ) -> Result<(), LocalError> {
        let name = service.name();
        let launch = service.launch(&self.state_dir, address, &self.secrets, &self.app_program)?;
        let print = fingerprint(&launch, "");
        if self.is_current(false, name, &print).await {
            return Ok(());
        }
        let step = self.progress.step(name, &format!("starting on {address}"));
        let replacing = self.state.components.remove(name);
        if let Some(old) = &replacing {
            process::stop_for_replacement(old, STOP_GRACE, address).await;
        }
        let result = async {
            step.waiting("preparing its data directory");
            service.prepare(&self.state_dir, &self.secrets).await?;
            if service == Service::S3 {
                // The S3 server takes over the objects of a stack made when
                // moto was the S3 server (once).
                super::moto_migration::migrate(&self.state_dir, &self.app_program).await?;
            }
            let running = self.spawn(false, name, &launch, address, print)?;
            let watched = watched(name, &running);
            step.waiting(&format!("port {address}"));
            wait_for_port(&watched, address, START_LIMIT).await?;
            Ok::<u32, LocalError>(running.pid)
        }
        .await;
        self.finish_step(step, name, replacing.is_some(), address, result)
    }

    /// True when `name` runs, answers, and was started the same way.
    async fn is_current(&self, instance: bool, name: &str, print: &str) -> bool {
        let map = if instance {
            &self.state.instances
        } else {
            &self.state.components
        };
        match map.get(name) {
            Some(r) => r.fingerprint == print && process::is_ours(r) && port_open(r.address).await,
            None => false,
        }
    }

    /// Starts `launch` after checking nobody else holds its port, and records it.
    fn spawn(
        &mut self,
        instance: bool,
        name: &str,
        launch: &Launch,
        address: SocketAddrV4,
        fingerprint: String,
    ) -> Result<Running, LocalError> {
        let running = start_process(name, launch, address, fingerprint)?;
        let map = if instance {
            &mut self.state.instances
        } else {
            &mut self.state.components
        };
        map.insert(name.to_owned(), running.clone());
        self.started_now.push((instance, name.to_owned()));
        self.save()?;
        Ok(running)
    }

    fn finish_step(
        &mut self,
        step: crate::progress::Step,
        name: &str,
        replaced: bool,
        address: SocketAddrV4,
        result: Result<u32, LocalError>,
    ) -> Result<(), LocalError> {
        match result {
            Ok(pid) => {
                let how = if replaced {
                    "restarted, now listening"
                } else {
                    "listening"
                };
                step.done(&format!("{how} on {address} (pid {pid})"));
                let list = if replaced {
                    &mut self.report.replaced
                } else {
                    &mut self.report.started
                };
                list.push(name.to_owned());
                Ok(())
            }
            Err(e) => {
                step.failed("see below");
                Err(e)
            }
        }
    }

    fn write_app_config(&self) -> Result<String, LocalError> {
        let text = instances::app_config(
            self.spec,
            self.addresses,
            self.state_dir.root(),
            &self.secrets,
        );
        let path = self.app_config_path();
        write_private(&path, text.as_bytes())?;
        if self.spec.storage == crate::spec::Storage::Shared {
            let dir = instances::shared_photos_dir(self.state_dir.root());
            std::fs::create_dir_all(&dir)
                .map_err(|source| LocalError::StateDir { path: dir, source })?;
        }
        Ok(text)
    }

    fn app_config_path(&self) -> PathBuf {
        self.state_dir.dir("app").join("photoscale.toml")
    }

    /// Starts instance `id`, or replaces it when its configuration changed:
    /// out of the load balancer, stopped (finishing its requests), started
    /// again, healthy, back in.
    async fn ensure_instance(&mut self, id: &str, config: &str) -> Result<(), LocalError> {
        let address = address_of(id, self.addresses).expect("wanted ids have addresses");
        let launch = instances::launch(
            &self.instance_program,
            &self.state_dir,
            &self.app_config_path(),
            id,
            address,
        );
        let print = fingerprint(&launch, config);
        if self.is_current(true, id, &print).await {
            return Ok(());
        }
        let step = self.progress.step(id, &format!("starting on {address}"));
        let api = self.runtime_api();
        let replacing = self.state.instances.remove(id);
        if let Some(old) = &replacing {
            if let Some(api) = &api {
                step.waiting("it to leave the load balancer");
                let _ = api.disable(id).await;
                api.wait_until_idle(id).await;
            }
            process::stop_for_replacement(old, STOP_GRACE, address).await;
        }
        let result = async {
            let running = self.spawn(true, id, &launch, address, print)?;
            step.waiting(&format!("GET http://{address}/healthz"));
            wait_for_healthz(&watched(id, &running), address, START_LIMIT).await?;
            if let (Some(api), Some(lb)) = (&api, &self.spec.load_balancer) {
                api.join(id, address, lb).await?;
            }
            Ok(running.pid)
        }
        .await;
        self.finish_step(step, id, replacing.is_some(), address, result)
    }

    fn save(&self) -> Result<(), LocalError> {
        self.state_dir.save(&self.state)
    }

    /// Stops what this run started, newest first, after a failure.
    async fn roll_back(&mut self) {
        while let Some((instance, name)) = self.started_now.pop() {
            let map = if instance {
                &mut self.state.instances
            } else {
                &mut self.state.components
            };
            if let Some(running) = map.remove(&name) {
                process::stop_child(running.pid, STOP_GRACE).await;
                eprintln!("  stopped  {name} again (the start of the stack failed)");
            }
        }
        let _ = self.save();
    }
}

fn watched<'a>(component: &'a str, running: &'a Running) -> Watched<'a> {
    Watched {
        component,
        pid: running.pid,
        log: &running.log,
    }
}
