//! `infra up --target aws`: find what exists, create what is missing, change
//! what differs, and delete what the level no longer wants, in an order where
//! the site keeps answering. Every step first looks at what exists, so a run
//! that failed half-way is finished by running `up` again.

mod app_fleet;

use std::collections::BTreeMap;

use base64::Engine;

use super::app_binary::{self, AppBinary};
use super::bucket::Transport;
use super::clients::Clients;
use super::discovery;
use super::error::AwsError;
use super::fleet::{self, Blueprint, GroupSettings};
use super::inventory::Inventory;
use super::load_balancer::{self, Balancer};
use super::network::{self, Network};
use super::plan::{self, Action, Change, Wanted};
use super::user_data::{Endpoints, Intent, Script};
use super::wait::finish;
use super::{
    alarms, artifacts, bucket, cache_cluster, database, iam, instance_refresh, secrets,
    subnet_groups, AwsOptions,
};
use crate::progress::Progress;
use crate::spec::StackSpec;

#[derive(Debug)]
pub struct UpReport {
    /// Where to browse to.
    pub url: Option<String>,
    /// What this run found to do.
    pub changes: Vec<Change>,
    /// What exists now.
    pub inventory: Inventory,
}

impl UpReport {
    pub fn changed_nothing(&self) -> bool {
        plan::nothing_to_do(&self.changes)
    }
}

/// Brings `options.stack` to `spec`.
pub async fn up(spec: &StackSpec, options: &AwsOptions) -> Result<UpReport, AwsError> {
    let (options, binary) = &artifacts::resolve(options)?;
    if let Some(binary) = binary {
        for warning in app_binary::check_runs_on(binary, options)? {
            tracing::warn!("{warning}");
        }
    }
    let clients = Clients::connect(&options.connection).await?;
    let found = discovery::discover(&clients, &options.stack).await?;
    let wanted = plan::wanted(spec, options, &clients);
    let changes = plan::changes(&wanted, &found);
    let network = network::find(&clients, options.vpc.as_deref(), &options.instance_type).await?;
    let run = Run {
        clients: &clients,
        options,
        binary: binary.as_ref(),
        spec,
        wanted: &wanted,
        found: &found,
        network: &network,
        progress: Progress::new(),
    };
    run.apply(&changes).await?;
    let now = discovery::discover(&clients, &options.stack).await?;
    super::save_state(&options.state_dir, &options.stack, &now)?;
    Ok(UpReport {
        url: now.url(),
        changes,
        inventory: now,
    })
}

struct Run<'a> {
    clients: &'a Clients,
    options: &'a AwsOptions,
    /// The program to deliver through the artifacts bucket (else --app-url).
    binary: Option<&'a AppBinary>,
    spec: &'a StackSpec,
    wanted: &'a Wanted,
    found: &'a Inventory,
    network: &'a Network,
    progress: Progress,
}

impl Run<'_> {
    async fn apply(&self, changes: &[Change]) -> Result<(), AwsError> {
        let (clients, stack, level) = (self.clients, &self.options.stack, self.spec.level);
        secrets::ensure(clients, stack, self.found.secrets_parameter.is_some()).await?;
        let groups = self
            .security_groups(self.direct_instances_serve(), &BTreeMap::new())
            .await?;
        let app_object = self.deliver_app().await?;
        let step = self.progress.step("iam", "role and instance profile");
        let policies = self.role_policies(app_object.as_ref());
        let profile_arn = iam::ensure(
            clients,
            stack,
            level,
            &self.found.iam,
            &policies,
            self.options.ssm_access,
        )
        .await?;
        step.done("role, instance profile and policies");
        if let Some(name) = &self.wanted.bucket {
            let exists = self.found.bucket.is_some();
            bucket::ensure(clients, stack, level, name, exists, Transport::TlsOnly).await?;
        }
        let endpoints = self.data_services(&groups).await?;
        let balancer = match self
            .spec
            .load_balancer
            .as_ref()
            .filter(|_| self.wanted.load_balancer)
        {
            Some(lb) => {
                let step = self.progress.step("lb", "load balancer");
                let made = load_balancer::ensure(
                    clients,
                    self.options,
                    level,
                    self.network,
                    &groups["lb"],
                    &lb.health_check,
                    self.found,
                )
                .await?;
                step.done(&made.load_balancer.dns_name);
                Some(made)
            }
            None => None,
        };
        let blueprint = self
            .blueprint(&groups["app"], profile_arn, &endpoints)
            .await?;
        match &self.spec.scaling {
            Some(_) => self.scaling_fleet(&blueprint, balancer.as_ref()).await?,
            None => self.standalone_fleet(&blueprint, balancer.as_ref()).await?,
        }
        if self.direct_instances_serve() {
            // The level-0 instance is gone: the app port closes to the world.
            self.security_groups(false, &groups).await?;
        }
        self.delete_unwanted(changes).await
    }

    /// Level 0 → 1+: the instance that serves the world directly keeps
    /// its open port until the load balancer and its instances serve.
    fn direct_instances_serve(&self) -> bool {
        self.wanted.load_balancer
            && self.found.load_balancer.is_none()
            && !self.found.instances.is_empty()
    }

    /// The artifacts bucket, and in it the app binary (unless --app-url):
    /// returns the object's (bucket, key).
    async fn deliver_app(&self) -> Result<Option<(String, String)>, AwsError> {
        let (clients, stack) = (self.clients, &self.options.stack);
        let name = stack.artifacts_bucket(&clients.account, &clients.region);
        let exists = self.found.artifacts_bucket.is_some();
        let transport = match clients.emulated {
            false => Transport::TlsOnly,
            true => Transport::Unrestricted,
        };
        bucket::ensure(clients, stack, self.spec.level, &name, exists, transport).await?;
        let Some(binary) = self.binary else {
            return Ok(None);
        };
        let step = self.progress.step("app", "the app binary");
        let uploaded = artifacts::upload(clients, &name, binary).await;
        finish(step, uploaded.map(|()| "in the artifacts bucket"))?;
        Ok(Some((name, artifacts::object_key(&binary.sha256))))
    }

    /// The role's inline policies, by name, with their documents.
    fn role_policies(&self, app_object: Option<&(String, String)>) -> Vec<(&'static str, String)> {
        let clients = self.clients;
        let mut policies = vec![(
            super::iam::SECRETS_POLICY,
            iam::secrets_policy(clients, &self.options.stack),
        )];
        if let Some(bucket) = &self.wanted.bucket {
            policies.push((
                plan::PHOTOS_POLICY,
                iam::photos_policy(&clients.region, bucket),
            ));
        } else {
            let artifacts = self
                .options
                .stack
                .artifacts_bucket(&clients.account, &clients.region);
            policies.push((
                artifacts::BACKUPS_POLICY,
                artifacts::backups_policy(&clients.region, &artifacts),
            ));
        }
        if let Some((bucket, key)) = app_object {
            policies.push((
                artifacts::APP_POLICY,
                artifacts::read_policy(&clients.region, bucket, key),
            ));
        }
        policies
    }

    /// The security groups the level wants, each with exactly its rules
    /// (plus, with `keep_direct`, the world's way to the level-0 instance).
    async fn security_groups(
        &self,
        keep_direct: bool,
        made: &BTreeMap<&'static str, String>,
    ) -> Result<BTreeMap<&'static str, String>, AwsError> {
        let mut ids: BTreeMap<&'static str, String> = BTreeMap::new();
        let cache_port = self.wanted.cache_engine.map_or(11211, cache_cluster::port);
        let mut kinds = self.wanted.security_groups.clone();
        if self.found.database.is_some() && !kinds.contains(&"db") {
            kinds.push("db"); // the kept database stays reachable
        }
        for kind in kinds {
            let mut rules = network::rules(
                kind,
                self.wanted.https,
                cache_port,
                ids.get("lb").map(String::as_str),
                ids.get("app").map(String::as_str),
            );
            if keep_direct && kind == "app" {
                rules.extend(network::rules("app", false, cache_port, None, None));
            }
            let id = network::ensure_group(
                self.clients,
                &self.options.stack,
                self.spec.level,
                self.network,
                kind,
                made.get(kind).or(self.found.security_groups.get(kind)),
                &rules,
            )
            .await?;
            ids.insert(kind, id);
        }
        Ok(ids)
    }

    /// RDS and ElastiCache: both created first, then waited for together.
    async fn data_services(
        &self,
        groups: &BTreeMap<&'static str, String>,
    ) -> Result<Endpoints, AwsError> {
        let (clients, options, level) = (self.clients, self.options, self.spec.level);
        let subnets = &self.network.subnet_ids;
        if self.wanted.database {
            let subnet_group =
                subnet_groups::ensure_database(clients, &options.stack, level, subnets).await?;
            database::ensure(
                clients,
                options,
                level,
                &groups["db"],
                &subnet_group,
                self.found.database.as_ref(),
            )
            .await?;
        }
        if let Some(engine) = self.wanted.cache_engine {
            let mut exists = self.found.cache_cluster.is_some();
            if self
                .found
                .cache_cluster
                .as_ref()
                .is_some_and(|c| c.engine != engine)
            {
                let step = self
                    .progress
                    .step("cache", "replacing the cluster's engine");
                cache_cluster::delete(clients, &options.stack, options, &step).await?;
                cache_cluster::wait_gone(clients, &options.stack, options, &step).await?;
                step.done(&format!("deleted, now {engine}"));
                exists = false;
            }
            let subnet_group =
                subnet_groups::ensure_cache(clients, &options.stack, level, subnets).await?;
            cache_cluster::ensure(
                clients,
                options,
                level,
                engine,
                &groups["cache"],
                &subnet_group,
                exists,
            )
            .await?;
        }
        let database = async {
            if !self.wanted.database {
                return Ok(None);
            }
            let step = self.progress.step("database", "RDS MySQL");
            let endpoint = database::wait_available(clients, &options.stack, options, &step).await;
            finish(step, endpoint).map(Some)
        };
        let cache = async {
            if self.wanted.cache_engine.is_none() {
                return Ok(None);
            }
            let step = self.progress.step("cache", "ElastiCache");
            let endpoint =
                cache_cluster::wait_available(clients, &options.stack, options, &step).await;
            finish(step, endpoint).map(Some)
        };
        let (database, cache) = tokio::try_join!(database, cache)?;
        Ok(Endpoints { database, cache })
    }

    /// What the level no longer wants (never the database or the bucket).
    async fn delete_unwanted(&self, changes: &[Change]) -> Result<(), AwsError> {
        let (clients, options) = (self.clients, self.options);
        let deleting = |kind: &str| {
            changes
                .iter()
                .any(|c| c.kind == kind && c.action == Action::Delete)
        };
        if deleting("load balancer") || deleting("target group") {
            let step = self.progress.step("lb", "deleting");
            let deleted = load_balancer::delete(clients, options, self.found, &step).await;
            finish(step, deleted.map(|()| "deleted"))?;
        }
        if deleting("cache cluster") {
            let step = self.progress.step("cache", "deleting");
            let deleted = cache_cluster::delete(clients, &options.stack, options, &step).await;
            finish(step, deleted.map(|()| "deleted"))?;
        }
        if deleting("SNS topic") {
            alarms::delete_own_topic(clients, options, self.found).await?;
        }
        let unwanted: Vec<(&str, &str)> = self
            .found
            .security_groups
            .iter()
            .filter(|(kind, _)| {
                let name = options.stack.security_group(kind);
                changes.iter().any(|c| {
                    c.kind == "security group" && c.name == name && c.action == Action::Delete
                })
            })
            .map(|(kind, id)| (kind.as_str(), id.as_str()))
            .collect();
        if !unwanted.is_empty() {
            let step = self.progress.step("network", "deleting security groups");
            let deleted = network::delete_groups(clients, options, unwanted, &step).await;
            finish(step, deleted.map(|()| "deleted"))?;
        }
        // The instances have moved to this region's profile by now.
        iam::delete_legacy(clients, &options.stack, &self.found.iam).await?;
        if deleting("cache subnet group") {
            let step = self.progress.step("cache", "deleting its subnet group");
            let deleted = subnet_groups::delete_cache(clients, options, &step).await;
            finish(step, deleted.map(|d| if d { "deleted" } else { "left" }))?;
        }
        Ok(())
    }
}
