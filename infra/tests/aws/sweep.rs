//! Every resource in the emulator that carries the stack's tag, service by
//! service, asking each service for everything it has (not photoscale's own
//! lookup, which is what is under test).

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;
use photoscale_infra::aws::Clients;

const TAG: &str = "photoscale:stack";

fn tagged<'a>(
    mut tags: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
    stack: &str,
) -> bool {
    tags.any(|(k, v)| k == Some(TAG) && v == Some(stack))
}

/// Identifiers of everything tagged with `stack`.
pub async fn resource_ids(clients: &Clients, stack: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let by_tag = || {
        Filter::builder()
            .name(format!("tag:{TAG}"))
            .values(stack)
            .build()
    };
    let live = Filter::builder()
        .name("instance-state-name")
        .set_values(Some(
            ["pending", "running", "stopping", "stopped"]
                .map(String::from)
                .to_vec(),
        ))
        .build();
    let out = clients
        .ec2
        .describe_instances()
        .filters(by_tag())
        .filters(live)
        .send()
        .await
        .unwrap();
    ids.extend(
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.instance_id())
            .map(|id| format!("instance {id}")),
    );
    let out = clients
        .ec2
        .describe_security_groups()
        .filters(by_tag())
        .send()
        .await
        .unwrap();
    ids.extend(
        out.security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(|id| format!("security group {id}")),
    );
    let out = clients
        .ec2
        .describe_launch_templates()
        .filters(by_tag())
        .send()
        .await
        .unwrap();
    ids.extend(
        out.launch_templates()
            .iter()
            .filter_map(|t| t.launch_template_id())
            .map(|id| format!("launch template {id}")),
    );

    let lbs = clients.elb.describe_load_balancers().send().await.unwrap();
    let tgs = clients.elb.describe_target_groups().send().await.unwrap();
    let arns = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn())
        .chain(
            tgs.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn()),
        );
    for arn in arns {
        let tags = clients
            .elb
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .unwrap();
        if tagged(
            tags.tag_descriptions()
                .iter()
                .flat_map(|d| d.tags())
                .map(|t| (t.key(), t.value())),
            stack,
        ) {
            ids.insert(arn.to_owned());
        }
    }
    let dbs = clients.rds.describe_db_instances().send().await.unwrap();
    for db in dbs.db_instances() {
        if tagged(db.tag_list().iter().map(|t| (t.key(), t.value())), stack) {
            ids.insert(format!("database {}", db.db_instance_identifier().unwrap()));
        }
    }
    let subnet_groups = clients
        .rds
        .describe_db_subnet_groups()
        .send()
        .await
        .unwrap();
    for group in subnet_groups.db_subnet_groups() {
        let tags = clients
            .rds
            .list_tags_for_resource()
            .resource_name(group.db_subnet_group_arn().unwrap())
            .send()
            .await
            .unwrap();
        if tagged(tags.tag_list().iter().map(|t| (t.key(), t.value())), stack) {
            ids.insert(format!(
                "DB subnet group {}",
                group.db_subnet_group_name().unwrap()
            ));
        }
    }
    // Cache subnet groups are not audited: moto (5.2) cannot delete them
    // (DeleteCacheSubnetGroup is not implemented), so `down` leaves them
    // there (against AWS it deletes them: subnet_groups::delete_cache).
    let clusters = clients
        .elasticache
        .describe_cache_clusters()
        .send()
        .await
        .unwrap();
    // A cluster being deleted is on its way out (AWS lists it for minutes).
    for cluster in clusters
        .cache_clusters()
        .iter()
        .filter(|c| c.cache_cluster_status() != Some("deleting"))
    {
        let tags = clients
            .elasticache
            .list_tags_for_resource()
            .resource_name(cluster.arn().unwrap())
            .send()
            .await
            .unwrap();
        if tagged(tags.tag_list().iter().map(|t| (t.key(), t.value())), stack) {
            ids.insert(format!(
                "cache cluster {}",
                cluster.cache_cluster_id().unwrap()
            ));
        }
    }
    let buckets = clients.s3.list_buckets().send().await.unwrap();
    for bucket in buckets.buckets() {
        let name = bucket.name().unwrap();
        if let Ok(tags) = clients.s3.get_bucket_tagging().bucket(name).send().await {
            if tagged(
                tags.tag_set()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
                stack,
            ) {
                ids.insert(format!("bucket {name}"));
            }
        }
    }
    let roles = clients.iam.list_roles().send().await.unwrap();
    for role in roles.roles() {
        let tags = clients
            .iam
            .list_role_tags()
            .role_name(role.role_name())
            .send()
            .await
            .unwrap();
        if tagged(
            tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
            stack,
        ) {
            ids.insert(format!("role {}", role.role_name()));
        }
    }
    let profiles = clients.iam.list_instance_profiles().send().await.unwrap();
    for profile in profiles.instance_profiles() {
        if tagged(
            profile
                .tags()
                .iter()
                .map(|t| (Some(t.key()), Some(t.value()))),
            stack,
        ) {
            ids.insert(format!(
                "instance profile {}",
                profile.instance_profile_name()
            ));
        }
    }
    let groups = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .send()
        .await
        .unwrap();
    for group in groups.auto_scaling_groups() {
        if tagged(group.tags().iter().map(|t| (t.key(), t.value())), stack) {
            ids.insert(format!(
                "Auto Scaling group {}",
                group.auto_scaling_group_name().unwrap()
            ));
        }
    }
    let alarms = clients.cloudwatch.describe_alarms().send().await.unwrap();
    for alarm in alarms.metric_alarms() {
        let tags = clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(alarm.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
        if tagged(tags.tags().iter().map(|t| (t.key(), t.value())), stack) {
            ids.insert(format!("alarm {}", alarm.alarm_name().unwrap()));
        }
    }
    let parameters = clients.ssm.describe_parameters().send().await.unwrap();
    for parameter in parameters.parameters() {
        let name = parameter.name().unwrap();
        let tags = clients
            .ssm
            .list_tags_for_resource()
            .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .unwrap();
        if tagged(
            tags.tag_list()
                .iter()
                .map(|t| (Some(t.key()), Some(t.value()))),
            stack,
        ) {
            ids.insert(format!("parameter {name}"));
        }
    }
    let topics = clients.sns.list_topics().send().await.unwrap();
    for topic in topics.topics() {
        let arn = topic.topic_arn().unwrap();
        let tags = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        if tagged(
            tags.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
            stack,
        ) {
            ids.insert(format!("topic {arn}"));
        }
    }
    ids
}

pub async fn assert_nothing_tagged(clients: &Clients, stack: &str) {
    let left = resource_ids(clients, stack).await;
    assert!(left.is_empty(), "left behind with {TAG}={stack}: {left:#?}");
}
