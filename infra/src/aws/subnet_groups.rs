//! The subnet groups of RDS and ElastiCache, made from the stack's own
//! subnets: without them both services use the default VPC's default
//! group, which does not exist with `--vpc` or in an account without a
//! default VPC. Named like the stack's other resources, created before the
//! database and cluster, deleted after them.

use aws_sdk_elasticache::types::Tag as CacheTag;
use aws_sdk_rds::types::Tag as RdsTag;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::names::StackName;
use super::{wait, AwsOptions};
use crate::progress::Step;

const DESCRIPTION: &str = "photoscale: the stack's subnets";

/// The database's subnet group, named `stack.main()`.
pub async fn ensure_database(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    subnet_ids: &[String],
) -> Result<String, AwsError> {
    let name = stack.main();
    let tags = super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| RdsTag::builder().key(k).value(v).build());
    match clients
        .rds
        .create_db_subnet_group()
        .db_subnet_group_name(&name)
        .db_subnet_group_description(DESCRIPTION)
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .set_tags(Some(tags.collect()))
        .send()
        .await
    {
        Ok(_) => Ok(name),
        Err(e) if code_of(&e) == Some("DBSubnetGroupAlreadyExists") => Ok(name),
        Err(e) => Err(api("CreateDBSubnetGroup", &name)(e)),
    }
}

/// The cache cluster's subnet group, named `stack.main()`.
pub async fn ensure_cache(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    subnet_ids: &[String],
) -> Result<String, AwsError> {
    let name = stack.main();
    let tags = super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| CacheTag::builder().key(k).value(v).build());
    match clients
        .elasticache
        .create_cache_subnet_group()
        .cache_subnet_group_name(&name)
        .cache_subnet_group_description(DESCRIPTION)
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .set_tags(Some(tags.collect()))
        .send()
        .await
    {
        Ok(_) => Ok(name),
        Err(e) if code_of(&e) == Some("CacheSubnetGroupAlreadyExists") => Ok(name),
        Err(e) => Err(api("CreateCacheSubnetGroup", &name)(e)),
    }
}

/// Whether the stack's database subnet group exists.
pub async fn discover_database(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<String>, AwsError> {
    let name = stack.main();
    match clients
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(&name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .db_subnet_groups()
            .first()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_owned)),
        Err(e) if code_of(&e) == Some("DBSubnetGroupNotFoundFault") => Ok(None),
        Err(e) => Err(api("DescribeDBSubnetGroups", &name)(e)),
    }
}

/// Whether the stack's cache subnet group exists.
pub async fn discover_cache(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<String>, AwsError> {
    let name = stack.main();
    match clients
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(&name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .cache_subnet_groups()
            .first()
            .and_then(|g| g.cache_subnet_group_name())
            .map(str::to_owned)),
        Err(e) if code_of(&e) == Some("CacheSubnetGroupNotFoundFault") => Ok(None),
        Err(e) => Err(api("DescribeCacheSubnetGroups", &name)(e)),
    }
}

/// Deletes the database's subnet group once the database is gone.
pub async fn delete_database(
    clients: &Clients,
    options: &AwsOptions,
    step: &Step,
) -> Result<(), AwsError> {
    let name = options.stack.main();
    let what = format!("RDS to release subnet group {name}");
    wait::until(
        step,
        &what,
        options.timeouts.deletion,
        options.timeouts.poll,
        || async {
            match clients
                .rds
                .delete_db_subnet_group()
                .db_subnet_group_name(&name)
                .send()
                .await
            {
                Ok(_) => Ok(Some(())),
                Err(e) if code_of(&e) == Some("DBSubnetGroupNotFoundFault") => Ok(Some(())),
                // Still used by a database that is being deleted.
                Err(e) if code_of(&e) == Some("InvalidDBSubnetGroupStateFault") => Ok(None),
                Err(e) => Err(api("DeleteDBSubnetGroup", &name)(e)),
            }
        },
    )
    .await
}

/// Deletes the cache subnet group once the cluster is gone (deleting a
/// cluster takes minutes, and the group is in use until it ends). False
/// when the emulator cannot delete it.
pub async fn delete_cache(
    clients: &Clients,
    options: &AwsOptions,
    step: &Step,
) -> Result<bool, AwsError> {
    let name = options.stack.main();
    let what = format!("ElastiCache to release subnet group {name}");
    wait::until(step, &what, options.timeouts.deletion, options.timeouts.poll, || async {
        match clients
            .elasticache
            .delete_cache_subnet_group()
            .cache_subnet_group_name(&name)
            .send()
            .await
        {
            Ok(_) => Ok(Some(true)),
            Err(e) if code_of(&e) == Some("CacheSubnetGroupNotFoundFault") => Ok(Some(true)),
            Err(e) if code_of(&e) == Some("CacheSubnetGroupInUse") => Ok(None),
            // moto (5.2) does not implement DeleteCacheSubnetGroup and
            // answers with an HTML error page: nothing to wait for there.
            Err(e) if clients.emulated && code_of(&e).is_none() => {
                tracing::warn!(group = %name, "the emulator cannot delete cache subnet groups; left in place");
                Ok(Some(false))
            }
            Err(e) => Err(api("DeleteCacheSubnetGroup", &name)(e)),
        }
    })
    .await
}
