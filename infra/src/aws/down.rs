//! `infra down --target aws`: delete everything the stack made, in the order
//! AWS allows (what uses a thing goes before it), waiting where AWS works in
//! the background. What to delete is found by name and tag, so leftovers of
//! a failed run or a lost state file are found too.

use super::clients::Clients;
use super::discovery;
use super::error::AwsError;
use super::inventory::Inventory;
use super::wait::finish;
use super::{
    bucket, cache_cluster, database, fleet, iam, load_balancer, network, secrets, subnet_groups,
    AwsOptions,
};
use crate::progress::Progress;

#[derive(Debug, Default)]
pub struct DownReport {
    /// What was deleted, as "kind name".
    pub deleted: Vec<String>,
}

/// What `down` is about to delete, for a person to check before saying
/// yes: where (account and region), and which parts hold data.
pub fn down_warning(found: &Inventory, final_snapshot: bool) -> String {
    let mut text = format!(
        "Deleting stack {} in AWS account {}, region {}.\n",
        found.stack, found.account, found.region
    );
    let mut data = Vec::new();
    if let Some(db) = &found.database {
        data.push(match final_snapshot {
            true => format!("database {} (users, photo records): a final snapshot is kept", db.id),
            false => format!(
                "database {} (users, photo records): deleted with its backups, no snapshot (keep one with --final-snapshot)",
                db.id
            ),
        });
    }
    if let Some(bucket) = &found.bucket {
        data.push(format!("bucket {bucket} (the photos): emptied and deleted"));
    }
    if let Some(cache) = &found.cache_cluster {
        data.push(format!(
            "cache cluster {} (sessions: everyone is logged out)",
            cache.id
        ));
    }
    if found.secrets_parameter.is_some() {
        data.push("the stack's secrets (admin token, session key, database password)".into());
    }
    let instances = found.instances.len() + found.group_instances.len();
    text.push_str(&format!(
        "  {instances} instance(s), the load balancer, security groups and the IAM role go too.\n"
    ));
    for line in data {
        text.push_str(&format!("  data: {line}\n"));
    }
    text
}

pub async fn down(options: &AwsOptions) -> Result<DownReport, AwsError> {
    let clients = Clients::connect(&options.connection).await?;
    let found = discovery::discover(&clients, &options.stack).await?;
    let progress = Progress::new();
    let mut report = DownReport::default();
    let step = progress.step("fleet", "instances and autoscaling");
    fleet::delete_scaling(&clients, options, &found, &step).await?;
    let instances: Vec<String> = found
        .instances
        .iter()
        .chain(&found.group_instances)
        .map(|i| i.id.clone())
        .collect();
    fleet::terminate(&clients, options, &instances, &step).await?;
    report
        .deleted
        .extend(instances.iter().map(|id| format!("instance {id}")));
    report
        .deleted
        .extend(found.alarms.iter().map(|a| format!("alarm {a}")));
    if let Some(group) = &found.auto_scaling_group {
        report
            .deleted
            .push(format!("Auto Scaling group {}", group.name));
    }
    step.done("gone");
    let step = progress.step("lb", "load balancer");
    load_balancer::delete(&clients, options, &found, &step).await?;
    if let Some(lb) = &found.load_balancer {
        report
            .deleted
            .push(format!("load balancer {}", lb.dns_name));
    }
    step.done("gone");
    let services = async {
        if found.database.is_none() {
            return Ok(());
        }
        let step = progress.step("database", "RDS");
        let done = database::delete(&clients, &options.stack, options, &step).await;
        finish(step, done.map(|()| "deleted")).map(|_| ())
    };
    let services = async {
        services.await?;
        if found.db_subnet_group.is_none() {
            return Ok(());
        }
        let step = progress.step("database", "its subnet group");
        let done = subnet_groups::delete_database(&clients, options, &step).await;
        finish(step, done.map(|()| "deleted")).map(|_| ())
    };
    let cache_cluster = found
        .cache_cluster
        .as_ref()
        .filter(|c| c.status != "deleting");
    let cache = async {
        if cache_cluster.is_none() {
            return Ok(());
        }
        let step = progress.step("cache", "ElastiCache");
        let done = cache_cluster::delete(&clients, &options.stack, options, &step).await;
        finish(step, done.map(|()| "deleted")).map(|_| ())
    };
    tokio::try_join!(services, cache)?;
    report
        .deleted
        .extend(found.database.iter().map(|d| format!("database {}", d.id)));
    report
        .deleted
        .extend(cache_cluster.map(|c| format!("cache cluster {}", c.id)));
    let step = progress.step("network", "security groups");
    let groups = found
        .security_groups
        .iter()
        .map(|(k, id)| (k.as_str(), id.as_str()));
    network::delete_groups(&clients, options, groups.collect(), &step).await?;
    report.deleted.extend(
        found
            .security_groups
            .keys()
            .map(|k| format!("security group {}", options.stack.security_group(k))),
    );
    step.done("gone");
    let mut cache_group_deleted = false;
    if found.cache_subnet_group.is_some() {
        let step = progress.step("cache", "its subnet group");
        let done = subnet_groups::delete_cache(&clients, options, &step).await;
        cache_group_deleted =
            finish(step, done.map(|d| if d { "deleted" } else { "left" }))? == "deleted";
    }
    report.deleted.extend(
        found
            .db_subnet_group
            .iter()
            .map(|name| format!("DB subnet group {name}")),
    );
    if cache_group_deleted {
        report.deleted.extend(
            found
                .cache_subnet_group
                .iter()
                .map(|name| format!("cache subnet group {name}")),
        );
    }
    if let Some(name) = &found.bucket {
        bucket::delete(&clients, name).await?;
        report.deleted.push(format!("bucket {name} and its photos"));
    }
    if let Some(name) = &found.artifacts_bucket {
        bucket::delete(&clients, name).await?;
        report
            .deleted
            .push(format!("artifacts bucket {name} and the app binaries"));
    }
    iam::delete(&clients, &options.stack, &found.iam).await?;
    if found.iam.role.is_some() || found.iam.instance_profile.is_some() {
        report.deleted.push(format!(
            "IAM role and instance profile {}",
            options.stack.role(&clients.region)
        ));
    }
    if let Some(legacy) = &found.iam.legacy_role {
        report
            .deleted
            .push(format!("IAM role and instance profile {legacy} (old name)"));
    }
    secrets::delete(&clients, &options.stack).await?;
    if found.secrets_parameter.is_some() {
        report
            .deleted
            .push(format!("parameter {}", options.stack.secrets_parameter()));
    }
    super::remove_state(&options.state_dir, &options.stack)?;
    Ok(report)
}
