//! The ElastiCache cluster (level 1+): sessions, and the feed cache at level
//! 4. Memcached by default, Redis when sessions or cache ask for it; reachable
//! only from the app's security group.

use aws_sdk_elasticache::types::Tag;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::names::StackName;
use super::{wait, AwsOptions};
use crate::progress::Step;

pub fn port(engine: &str) -> u16 {
    if engine == "redis" {
        6379
    } else {
        11211
    }
}

pub async fn ensure(
    clients: &Clients,
    options: &AwsOptions,
    level: u8,
    engine: &str,
    security_group: &str,
    subnet_group: &str,
    exists: bool,
) -> Result<(), AwsError> {
    if exists {
        return Ok(());
    }
    let stack = &options.stack;
    let id = stack.main();
    let tags = super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build());
    clients
        .elasticache
        .create_cache_cluster()
        .cache_cluster_id(&id)
        .engine(engine)
        .cache_node_type(&options.cache_node_type)
        .num_cache_nodes(1)
        .port(i32::from(port(engine)))
        .security_group_ids(security_group)
        .cache_subnet_group_name(subnet_group)
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .map_err(api("CreateCacheCluster", &id))?;
    Ok(())
}

/// Waits until the cluster is available; returns its `host:port`.
pub async fn wait_available(
    clients: &Clients,
    stack: &StackName,
    options: &AwsOptions,
    step: &Step,
) -> Result<String, AwsError> {
    let id = stack.main();
    let what = format!("ElastiCache cluster {id} to be available (usually 5 to 10 minutes)");
    let cluster = wait::until(
        step,
        &what,
        options.timeouts.cache,
        options.timeouts.poll,
        || async {
            let cluster = super::discovery::discover_cache_cluster(clients, stack).await?;
            if let Some(cluster) = &cluster {
                let resource = format!("ElastiCache cluster {}", stack.main());
                wait::refuse_terminal(&resource, &cluster.status, wait::CACHE_TERMINAL)?;
            }
            Ok(cluster.filter(|c| c.status == "available"))
        },
    )
    .await?;
    match cluster.endpoint {
        Some(endpoint) => Ok(endpoint),
        // Emulators (moto) model no cache nodes: a name that never resolves,
        // so the instances' configuration is complete and says so.
        None if clients.emulated => Ok(format!("{id}.emulated.invalid:{}", port(&cluster.engine))),
        None => Err(AwsError::Invalid(format!(
            "ElastiCache reports cluster {id} available but gives no endpoint\n  fix: run `photoscale infra up --target aws` again in a minute"
        ))),
    }
}

pub async fn delete(
    clients: &Clients,
    stack: &StackName,
    options: &AwsOptions,
    step: &Step,
) -> Result<(), AwsError> {
    let id = stack.main();
    match clients
        .elasticache
        .delete_cache_cluster()
        .cache_cluster_id(&id)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if code_of(&e) == Some("CacheClusterNotFound") => return Ok(()),
        Err(e) if code_of(&e) == Some("InvalidCacheClusterState") => {} // already being deleted
        Err(e) => return Err(api("DeleteCacheCluster", &id)(e)),
    }
    // Deleting takes minutes; the cache's security group cannot go before it
    // is gone, and that deletion waits for it. Here: until it is under way.
    let what = format!("ElastiCache to start deleting cluster {id}");
    wait::until(
        step,
        &what,
        options.timeouts.deletion,
        options.timeouts.poll,
        || async {
            let cluster = super::discovery::discover_cache_cluster(clients, stack).await?;
            Ok(cluster.is_none_or(|c| c.status == "deleting").then_some(()))
        },
    )
    .await
}

/// Waits until the cluster is gone altogether: ElastiCache keeps its id
/// reserved while it deletes, so a cluster of the other engine under the
/// same id can only be made after that.
pub async fn wait_gone(
    clients: &Clients,
    stack: &StackName,
    options: &AwsOptions,
    step: &Step,
) -> Result<(), AwsError> {
    let what = format!("ElastiCache to finish deleting cluster {}", stack.main());
    wait::until(
        step,
        &what,
        options.timeouts.deletion,
        options.timeouts.poll,
        || async {
            let cluster = super::discovery::discover_cache_cluster(clients, stack).await?;
            Ok(cluster.is_none().then_some(()))
        },
    )
    .await
}
