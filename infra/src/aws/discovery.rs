//! Finding what the stack has in AWS, by asking: by tag where AWS can
//! filter on tags (EC2), by the stack's names elsewhere, checking the stack
//! tag so a stranger's resource of the same name is never taken for ours.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::inventory::*;
use super::names::{StackName, CONFIG_TAG, LEVEL_TAG};
use super::ownership::{has_stack_tag, not_ours, stack_filter};

/// Everything of `stack` that exists now.
pub async fn discover(clients: &Clients, stack: &StackName) -> Result<Inventory, AwsError> {
    let mut found = Inventory {
        stack: stack.to_string(),
        region: clients.region.clone(),
        account: clients.account.clone(),
        ..Default::default()
    };
    found.security_groups = security_groups(clients, stack).await?;
    let (instances, level) = instances(clients, stack).await?;
    (found.instances, found.group_instances) = instances;
    found.level = level;
    found.load_balancer = discover_load_balancer(clients, stack).await?;
    found.target_group = target_group(clients, stack).await?;
    if let Some(lb) = &found.load_balancer {
        found.listeners = listeners(clients, &lb.arn).await?;
    }
    found.database = discover_database(clients, stack).await?;
    found.db_subnet_group = super::subnet_groups::discover_database(clients, stack).await?;
    found.cache_cluster = discover_cache_cluster(clients, stack).await?;
    found.cache_subnet_group = super::subnet_groups::discover_cache(clients, stack).await?;
    found.bucket = bucket(
        clients,
        stack,
        stack.bucket(&clients.account, &clients.region),
    )
    .await?;
    let artifacts = stack.artifacts_bucket(&clients.account, &clients.region);
    found.artifacts_bucket = bucket(clients, stack, artifacts).await?;
    found.iam = super::iam::discover(clients, stack).await?;
    found.launch_templates = launch_templates(clients, stack).await?;
    found.auto_scaling_group = auto_scaling_group(clients, stack).await?;
    if found.auto_scaling_group.is_some() {
        found.scaling_policies = scaling_policies(clients, stack).await?;
    }
    found.alarms = alarms(clients, stack).await?;
    found.topic = topic(clients, stack).await?;
    found.secrets_parameter = secrets_parameter(clients, stack).await?;
    Ok(found)
}

async fn security_groups(
    clients: &Clients,
    stack: &StackName,
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = clients
        .ec2
        .describe_security_groups()
        .filters(stack_filter(stack))
        .send()
        .await
        .map_err(api("DescribeSecurityGroups", format!("stack {stack}")))?;
    let prefix = format!("{}-", stack.main());
    Ok(out
        .security_groups()
        .iter()
        .filter_map(|g| {
            let kind = g.group_name()?.strip_prefix(&prefix)?;
            Some((kind.to_owned(), g.group_id()?.to_owned()))
        })
        .collect())
}

type Instances = (Vec<Instance>, Vec<Instance>);

async fn instances(
    clients: &Clients,
    stack: &StackName,
) -> Result<(Instances, Option<u8>), AwsError> {
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
        .filters(stack_filter(stack))
        .filters(live)
        .send()
        .await
        .map_err(api("DescribeInstances", format!("stack {stack}")))?;
    let (mut standalone, mut grouped, mut level) = (Vec::new(), Vec::new(), None);
    for instance in out.reservations().iter().flat_map(|r| r.instances()) {
        let tag = |key: &str| {
            instance
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_owned)
        };
        level = level.max(tag(LEVEL_TAG).and_then(|l| l.parse().ok()));
        let found = Instance {
            id: instance.instance_id().unwrap_or_default().to_owned(),
            state: instance
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            config: tag(CONFIG_TAG),
            public_address: instance
                .public_dns_name()
                .filter(|d| !d.is_empty())
                .or(instance.public_ip_address())
                .map(str::to_owned),
        };
        match tag("aws:autoscaling:groupName") {
            Some(_) => grouped.push(found),
            None => standalone.push(found),
        }
    }
    standalone.sort_by(|a, b| a.id.cmp(&b.id));
    grouped.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(((standalone, grouped), level))
}

pub async fn discover_load_balancer(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<LoadBalancer>, AwsError> {
    let name = stack.main();
    let out = match clients
        .elb
        .describe_load_balancers()
        .names(&name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code_of(&e) == Some("LoadBalancerNotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeLoadBalancers", &name)(e)),
    };
    let Some(lb) = out.load_balancers().first() else {
        return Ok(None);
    };
    let arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
    if !elb_is_ours(clients, &arn, stack).await? {
        return Err(not_ours("load balancer", &name, stack));
    }
    Ok(Some(LoadBalancer {
        arn,
        dns_name: lb.dns_name().unwrap_or_default().to_owned(),
    }))
}

async fn target_group(clients: &Clients, stack: &StackName) -> Result<Option<Arn>, AwsError> {
    let name = stack.main();
    let out = match clients
        .elb
        .describe_target_groups()
        .names(&name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code_of(&e) == Some("TargetGroupNotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeTargetGroups", &name)(e)),
    };
    let Some(arn) = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
    else {
        return Ok(None);
    };
    if !elb_is_ours(clients, arn, stack).await? {
        return Err(not_ours("target group", &name, stack));
    }
    Ok(Some(Arn(arn.to_owned())))
}

async fn elb_is_ours(clients: &Clients, arn: &str, stack: &StackName) -> Result<bool, AwsError> {
    let out = clients
        .elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(api("DescribeTags", arn))?;
    let tags = out.tag_descriptions().iter().flat_map(|d| d.tags());
    Ok(has_stack_tag(
        tags.map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
        stack,
    ))
}

async fn listeners(clients: &Clients, lb_arn: &str) -> Result<Vec<String>, AwsError> {
    let out = clients
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(api("DescribeListeners", lb_arn))?;
    Ok(out
        .listeners()
        .iter()
        .filter_map(|l| l.listener_arn().map(str::to_owned))
        .collect())
}

pub async fn discover_database(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<Endpointed>, AwsError> {
    let id = stack.main();
    let out = match clients
        .rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code_of(&e) == Some("DBInstanceNotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeDBInstances", &id)(e)),
    };
    let Some(db) = out.db_instances().first() else {
        return Ok(None);
    };
    let tags = db.tag_list().iter();
    if !has_stack_tag(
        tags.map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
        stack,
    ) {
        return Err(not_ours("database", &id, stack));
    }
    Ok(Some(Endpointed {
        id,
        status: db.db_instance_status().unwrap_or_default().to_owned(),
        endpoint: db
            .endpoint()
            .and_then(|e| Some(format!("{}:{}", e.address()?, e.port().unwrap_or(3306)))),
    }))
}

pub async fn discover_cache_cluster(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<CacheCluster>, AwsError> {
    let id = stack.main();
    let out = match clients
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id(&id)
        .show_cache_node_info(true)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if code_of(&e) == Some("CacheClusterNotFound") => return Ok(None),
        Err(e) => return Err(api("DescribeCacheClusters", &id)(e)),
    };
    let Some(cluster) = out.cache_clusters().first() else {
        return Ok(None);
    };
    if let Some(arn) = cluster.arn() {
        let tags = clients
            .elasticache
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(api("ListTagsForResource", arn))?;
        let tags = tags.tag_list().iter();
        if !has_stack_tag(
            tags.map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
            stack,
        ) {
            return Err(not_ours("cache cluster", &id, stack));
        }
    }
    // Memcached answers on its configuration endpoint, Redis on its node.
    let endpoint = cluster
        .configuration_endpoint()
        .or_else(|| cluster.cache_nodes().first().and_then(|n| n.endpoint()));
    Ok(Some(CacheCluster {
        id,
        engine: cluster.engine().unwrap_or_default().to_owned(),
        status: cluster
            .cache_cluster_status()
            .unwrap_or_default()
            .to_owned(),
        endpoint: endpoint.and_then(|e| Some(format!("{}:{}", e.address()?, e.port()?))),
    }))
}

/// Bucket `name`, if it exists (and is the stack's).
pub(super) async fn bucket(
    clients: &Clients,
    stack: &StackName,
    name: String,
) -> Result<Option<String>, AwsError> {
    match clients.s3.head_bucket().bucket(&name).send().await {
        Ok(_) => {}
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => return Ok(None),
        Err(e) => return Err(api("HeadBucket", &name)(e)),
    }
    let tags = match clients.s3.get_bucket_tagging().bucket(&name).send().await {
        Ok(out) => out.tag_set().to_vec(),
        Err(e) if code_of(&e) == Some("NoSuchTagSet") => Vec::new(),
        Err(e) => return Err(api("GetBucketTagging", &name)(e)),
    };
    if !has_stack_tag(tags.iter().map(|t| (t.key(), t.value())), stack) {
        return Err(not_ours("bucket", &name, stack));
    }
    Ok(Some(name))
}

async fn launch_templates(
    clients: &Clients,
    stack: &StackName,
) -> Result<Vec<LaunchTemplate>, AwsError> {
    let out = clients
        .ec2
        .describe_launch_templates()
        .filters(stack_filter(stack))
        .send()
        .await
        .map_err(api("DescribeLaunchTemplates", format!("stack {stack}")))?;
    Ok(out
        .launch_templates()
        .iter()
        .map(|t| LaunchTemplate {
            id: t.launch_template_id().unwrap_or_default().to_owned(),
            name: t.launch_template_name().unwrap_or_default().to_owned(),
            config: t
                .tags()
                .iter()
                .find(|tag| tag.key() == Some(CONFIG_TAG))
                .and_then(|tag| tag.value())
                .map(str::to_owned),
        })
        .collect())
}

pub async fn auto_scaling_group(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<AutoScalingGroup>, AwsError> {
    let name = stack.main();
    let out = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&name)
        .send()
        .await
        .map_err(api("DescribeAutoScalingGroups", &name))?;
    let Some(group) = out.auto_scaling_groups().first() else {
        return Ok(None);
    };
    if group.status().is_some_and(|s| s.contains("Delete")) {
        return Ok(None);
    }
    Ok(Some(AutoScalingGroup {
        name,
        min: group.min_size().unwrap_or(0),
        max: group.max_size().unwrap_or(0),
        desired: group.desired_capacity().unwrap_or(0),
        template_id: group
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .map(str::to_owned),
    }))
}

async fn scaling_policies(clients: &Clients, stack: &StackName) -> Result<Vec<String>, AwsError> {
    let name = stack.main();
    let out = clients
        .autoscaling
        .describe_policies()
        .auto_scaling_group_name(&name)
        .send()
        .await
        .map_err(api("DescribePolicies", &name))?;
    Ok(out
        .scaling_policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_owned))
        .collect())
}

/// The stack's alarms. Names are searched by prefix, which also matches a
/// stack whose name starts with ours (`demo` and `demo-b`): only alarms
/// carrying our stack tag are ours.
async fn alarms(clients: &Clients, stack: &StackName) -> Result<Vec<String>, AwsError> {
    let mut candidates = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(format!("{}-", stack.main()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api("DescribeAlarms", format!("stack {stack}")))?;
        candidates.extend(
            page.metric_alarms()
                .iter()
                .filter_map(|a| Some((a.alarm_name()?.to_owned(), a.alarm_arn()?.to_owned()))),
        );
    }
    let mut ours = Vec::new();
    for (name, arn) in candidates {
        let tags = clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(api("ListTagsForResource", &name))?;
        let pairs = tags
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value()?)));
        if has_stack_tag(pairs, stack) {
            ours.push(name);
        }
    }
    ours.sort();
    Ok(ours)
}

async fn topic(clients: &Clients, stack: &StackName) -> Result<Option<String>, AwsError> {
    let suffix = format!(":{}", stack.topic());
    let mut pages = clients.sns.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(api("ListTopics", stack.topic()))?;
        if let Some(arn) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.ends_with(&suffix))
        {
            return Ok(Some(arn.to_owned()));
        }
    }
    Ok(None)
}

async fn secrets_parameter(
    clients: &Clients,
    stack: &StackName,
) -> Result<Option<String>, AwsError> {
    let name = stack.secrets_parameter();
    // Without decryption: only whether it exists.
    match clients.ssm.get_parameter().name(&name).send().await {
        Ok(_) => Ok(Some(name)),
        Err(e) if code_of(&e) == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(api("GetParameter", &name)(e)),
    }
}
