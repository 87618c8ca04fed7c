//! `infra deploy`: replaces the program of a running local stack with a new
//! build, a batch at a time, without a failed request.
//!
//! Behind the load balancer (level 1 and up) each batch is replaced the way
//! Auto Scaling's rolling replacement does it: new instances start on free
//! addresses, pass their health check and join the load balancer, and only
//! then are the old ones drained (their requests finish) and stopped.
//! When every address is in use (a fleet at its maximum), the old instance
//! leaves first and the new one takes its address. If a new instance fails
//! its health check, the deploy stops: it is removed, the instances already
//! replaced go back to the old build, and the old build keeps serving.
//!
//! At level 0 there is no second instance to serve meanwhile: the one
//! instance restarts, with a brief downtime, said up front.
//!
//! The autoscaler waits while a deploy holds the stack, and launches the
//! deployed build afterwards (see `builds`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::builds::{self, Deployed};
use super::haproxy::admin_socket;
use super::haproxy::RuntimeApi;
use super::health::{wait_for_healthz, Watched};
use super::instances::{self, address_of};
use super::process;
use super::state::{Running, StateDir};
use super::{fingerprint, start_process, LocalError};
use crate::plan::Addresses;
use crate::progress::Progress;
use crate::spec::StackSpec;

pub struct DeployOptions {
    pub state_dir: PathBuf,
    /// The new build's program.
    pub binary: PathBuf,
    /// Instances replaced at a time.
    pub batch: usize,
    /// The wait between batches.
    pub pause: Duration,
    /// How long a new instance has to pass its health check.
    pub health_limit: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    pub from: String,
    pub to: String,
    /// (old instance, new instance)
    pub replaced: Vec<(String, String)>,
}

const STOP_GRACE: Duration = Duration::from_secs(15);

pub async fn deploy(options: &DeployOptions) -> Result<DeployReport, LocalError> {
    let dir = StateDir::open(&options.state_dir).ok_or_else(|| {
        LocalError::Missing(format!(
            "no stack runs from {}\n  fix: start one with `photoscale infra up --level N`",
            options.state_dir.display()
        ))
    })?;
    let new = builds::prepare(&dir, &options.binary).await?;
    let _lock = dir.lock_waiting(Duration::from_secs(120)).await?;
    let state = dir.load()?;
    let spec = state
        .spec
        .clone()
        .ok_or_else(|| LocalError::Missing("the stack was never started".into()))?;
    let addresses = Addresses::for_spec(&spec, state.entry.map_or(8080, |e| e.port()));
    let old = builds::deployed(&dir).ok_or_else(|| {
        LocalError::Missing(
            "the stack does not record which build it runs (it was started by an older photoscale)\n  fix: run `photoscale infra up` once with this photoscale, then deploy".into(),
        )
    })?;
    let roll = Roll {
        dir: &dir,
        spec: &spec,
        addresses: &addresses,
        api: spec
            .load_balancer
            .as_ref()
            .map(|_| RuntimeApi::new(admin_socket(&dir))),
        progress: Progress::new(),
        health_limit: options.health_limit,
    };
    let mut report = DeployReport {
        from: old.build.clone(),
        to: new.build.clone(),
        replaced: Vec::new(),
    };
    if old.build == new.build {
        return Ok(report);
    }
    let targets: Vec<String> = state.instances.keys().cloned().collect();
    report.replaced = roll
        .replace_all(&targets, &new, &old, options.batch, options.pause)
        .await?;
    builds::record_deployed(&dir, &new)?;
    Ok(report)
}

/// Replaces instances of the stack, a batch at a time (also `up`'s way to
/// a new build, one at a time).
pub(super) struct Roll<'a> {
    pub dir: &'a StateDir,
    pub spec: &'a StackSpec,
    pub addresses: &'a Addresses,
    pub api: Option<RuntimeApi>,
    pub progress: Progress,
    pub health_limit: Duration,
}

impl Roll<'_> {
    /// Replaces `targets` with instances of `new`, `batch` at a time; on a
    /// failure, puts the ones already replaced back on `old` and says so.
    pub async fn replace_all(
        &self,
        targets: &[String],
        new: &Deployed,
        old: &Deployed,
        batch: usize,
        pause: Duration,
    ) -> Result<Vec<(String, String)>, LocalError> {
        let mut replaced = Vec::new();
        for (n, chunk) in targets.chunks(batch.max(1)).enumerate() {
            if n > 0 && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            match self.replace_batch(chunk, new).await {
                Ok(pairs) => replaced.extend(pairs),
                Err((pairs, e)) => {
                    replaced.extend(pairs);
                    self.roll_back(&replaced, old).await;
                    return Err(LocalError::Missing(format!(
                        "deploy of {} stopped: {e}\n  rolled back: every instance runs {} again",
                        new.build, old.build
                    )));
                }
            }
        }
        Ok(replaced)
    }

    /// Replaces a batch. With a free address for each of its instances, the
    /// new ones start together and all pass their health check before any
    /// old one leaves; else they are replaced one at a time. On an error,
    /// the pairs replaced so far come back with it, for the roll-back.
    async fn replace_batch(
        &self,
        ids: &[String],
        build: &Deployed,
    ) -> Result<Vec<(String, String)>, (Vec<(String, String)>, LocalError)> {
        let state = self.dir.load().map_err(|e| (Vec::new(), e))?;
        let free: Vec<String> = (1..=self.addresses.instances.len() as u32)
            .map(instances::instance_id)
            .filter(|candidate| !state.instances.contains_key(candidate))
            .take(ids.len())
            .collect();
        let mut done = Vec::new();
        if ids.len() == 1 || self.api.is_none() || free.len() < ids.len() {
            for id in ids {
                match self.replace(id, build).await {
                    Ok(new_id) => done.push((id.clone(), new_id)),
                    Err(e) => return Err((done, e)),
                }
            }
            return Ok(done);
        }
        let step = self
            .progress
            .step(&ids.join(","), &format!("replacing with {}", build.build));
        step.waiting(&format!("{} to pass their health checks", free.join(", ")));
        let started = futures_util::future::join_all(
            free.iter().map(|new_id| self.start(new_id, &build.program)),
        )
        .await;
        if started.iter().any(Result::is_err) {
            for (new_id, result) in free.iter().zip(&started) {
                if result.is_ok() {
                    let _ = self.retire(new_id).await;
                }
            }
            step.failed("see below");
            let error = started
                .into_iter()
                .find_map(Result::err)
                .expect("one failed");
            return Err((done, error));
        }
        done.extend(ids.iter().cloned().zip(free.iter().cloned()));
        step.waiting("the old instances to drain");
        for id in ids {
            if let Err(e) = self.retire(id).await {
                step.failed("see below");
                return Err((done, e));
            }
        }
        step.done(&format!("now {}, running {}", free.join(", "), build.build));
        Ok(done)
    }

    /// Replaces `id` with an instance of `build`; returns the new one's id.
    async fn replace(&self, id: &str, build: &Deployed) -> Result<String, LocalError> {
        let state = self.dir.load()?;
        let free = (1..=self.addresses.instances.len() as u32)
            .map(instances::instance_id)
            .find(|candidate| !state.instances.contains_key(candidate));
        let step = self
            .progress
            .step(id, &format!("replacing with {}", build.build));
        let result = match (&self.api, free) {
            (Some(_), Some(new_id)) => {
                step.waiting(&format!("{new_id} to pass its health check"));
                match self.start(&new_id, &build.program).await {
                    Ok(()) => {
                        step.waiting(&format!("{id} to drain"));
                        self.retire(id).await.map(|_| new_id)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => {
                step.waiting(&format!("{id} to drain and restart"));
                let old_program = self.retire(id).await?;
                match self.start(id, &build.program).await {
                    Ok(()) => Ok(id.to_owned()),
                    Err(e) => {
                        // The old build takes its address back.
                        let _ = self.start(id, &old_program).await;
                        Err(e)
                    }
                }
            }
        };
        match &result {
            Ok(new_id) => step.done(&format!("now {new_id}, running {}", build.build)),
            Err(_) => step.failed("see below"),
        }
        result
    }

    /// Starts instance `id` on `program`, healthy and in the load balancer;
    /// stopped again when it does not get there.
    async fn start(&self, id: &str, program: &Path) -> Result<(), LocalError> {
        let address = address_of(id, self.addresses).expect("ids within the slots");
        let config_path = self.dir.dir("app").join("photoscale.toml");
        let config = std::fs::read_to_string(&config_path).unwrap_or_default();
        let launch = instances::launch(program, self.dir, &config_path, id, address);
        let running = start_process(id, &launch, address, fingerprint(&launch, &config))?;
        self.save_instance(id, Some(running.clone()))?;
        let watched = Watched {
            component: id,
            pid: running.pid,
            log: &running.log,
        };
        let ready = async {
            wait_for_healthz(&watched, address, self.health_limit).await?;
            if let (Some(api), Some(lb)) = (&self.api, &self.spec.load_balancer) {
                api.join(id, address, lb).await?;
            }
            Ok::<(), LocalError>(())
        };
        if let Err(e) = ready.await {
            if let Some(api) = &self.api {
                let _ = api.retire(id).await;
            }
            process::stop_child(running.pid, STOP_GRACE).await;
            self.save_instance(id, None)?;
            return Err(e);
        }
        Ok(())
    }

    /// Drains `id` out of the load balancer and stops it; returns the
    /// program it ran.
    async fn retire(&self, id: &str) -> Result<PathBuf, LocalError> {
        if let Some(api) = &self.api {
            api.retire(id).await?;
        }
        let state = self.dir.load()?;
        let program = builds::deployed(self.dir)
            .map(|d| d.program)
            .unwrap_or_default();
        if let Some(running) = state.instances.get(id) {
            process::stop(running, STOP_GRACE).await;
        }
        self.save_instance(id, None)?;
        Ok(program)
    }

    fn save_instance(&self, id: &str, running: Option<Running>) -> Result<(), LocalError> {
        let mut state = self.dir.load()?;
        match running {
            Some(r) => state.instances.insert(id.to_owned(), r),
            None => state.instances.remove(id),
        };
        self.dir.save(&state)
    }

    /// Puts the instances already replaced back on the old build.
    async fn roll_back(&self, replaced: &[(String, String)], old: &Deployed) {
        for (_, new_id) in replaced.iter().rev() {
            if let Err(e) = self.replace(new_id, old).await {
                eprintln!("  rolling {new_id} back failed: {e}");
            }
        }
    }
}
