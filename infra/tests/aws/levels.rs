//! Each level's resources, with the attributes the ladder promises, read
//! back from the emulator with describe calls.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;
use photoscale_infra::aws::{self, Clients, StackName};

use crate::moto::{spec, Moto};

fn tag_filter(stack: &str) -> Filter {
    Filter::builder()
        .name("tag:photoscale:stack")
        .values(stack)
        .build()
}

/// Inbound rules of the stack's group `kind` as (port, source) pairs, the
/// source being a CIDR or the name of the trusted group.
async fn rules_of(clients: &Clients, stack: &str, kind: &str) -> Vec<(i32, String)> {
    let groups = clients
        .ec2
        .describe_security_groups()
        .filters(tag_filter(stack))
        .send()
        .await
        .unwrap();
    let name_of = |id: &str| {
        groups
            .security_groups()
            .iter()
            .find(|g| g.group_id() == Some(id))
            .and_then(|g| g.group_name())
            .unwrap_or(id)
            .to_owned()
    };
    let group = groups
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some(&format!("photoscale-{stack}-{kind}")))
        .unwrap_or_else(|| panic!("no {kind} group"));
    let mut rules = Vec::new();
    for p in group.ip_permissions() {
        assert_eq!(p.ip_protocol(), Some("tcp"));
        assert_eq!(p.from_port(), p.to_port(), "one port per rule");
        let port = p.from_port().unwrap();
        rules.extend(
            p.ip_ranges()
                .iter()
                .map(|r| (port, r.cidr_ip().unwrap().to_owned())),
        );
        rules.extend(
            p.user_id_group_pairs()
                .iter()
                .map(|g| (port, name_of(g.group_id().unwrap()))),
        );
    }
    rules
}

async fn running_instances(clients: &Clients, stack: &str) -> Vec<aws_sdk_ec2::types::Instance> {
    let running = Filter::builder()
        .name("instance-state-name")
        .values("running")
        .build();
    let out = clients
        .ec2
        .describe_instances()
        .filters(tag_filter(stack))
        .filters(running)
        .send()
        .await
        .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances().to_vec())
        .collect()
}

fn tag<'a>(instance: &'a aws_sdk_ec2::types::Instance, key: &str) -> Option<&'a str> {
    instance
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// IAM returns policy documents URL-encoded.
async fn role_policy(clients: &Clients, role: &str, policy: &str) -> serde_json::Value {
    let out = clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .unwrap();
    let text = out.policy_document();
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap();
    serde_json::from_str(&decoded).unwrap()
}

#[tokio::test]
async fn level_0_is_one_instance_facing_the_world() {
    let moto = Moto::start().await;
    let options = moto.options("zero");
    let report = aws::up(&spec(0), &options).await.unwrap();
    let clients = moto.clients().await;
    let instances = running_instances(&clients, "zero").await;
    assert_eq!(instances.len(), 1);
    assert_eq!(tag(&instances[0], "photoscale:level"), Some("0"));
    assert!(
        instances[0].iam_instance_profile().is_some(),
        "secrets come through the role"
    );
    assert_eq!(
        rules_of(&clients, "zero", "app").await,
        [(80, "0.0.0.0/0".to_owned())]
    );
    let out = clients.elb.describe_load_balancers().send().await.unwrap();
    assert!(
        out.load_balancers().is_empty(),
        "no load balancer at level 0"
    );
    let url = report.url.expect("the instance's address");
    assert!(url.starts_with("http://"), "{url}");
    // The secrets are a SecureString the role may read, and nothing more.
    let parameter = clients
        .ssm
        .get_parameter()
        .name("/photoscale/zero/secrets")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parameter.parameter().unwrap().r#type().unwrap().as_str(),
        "SecureString"
    );
    let policy = role_policy(
        &clients,
        "photoscale-zero-app-eu-west-1",
        "photoscale-secrets",
    )
    .await;
    assert_eq!(policy["Statement"][0]["Action"], "ssm:GetParameter");
    assert_eq!(
        policy["Statement"][0]["Resource"],
        "arn:aws:ssm:eu-west-1:123456789012:parameter/photoscale/zero/secrets"
    );
    // The user data carries the level's configuration, never a secret value.
    let user_data = clients
        .ec2
        .describe_instance_attribute()
        .instance_id(instances[0].instance_id().unwrap())
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let script = decode(user_data.user_data().unwrap().value().unwrap());
    assert!(script.contains("bind = \"0.0.0.0:80\""), "{script}");
    assert!(script.contains("SECRETS_PARAMETER='/photoscale/zero/secrets'"));
    // Backups (`photoscale backup` on the instance) go to the artifacts
    // bucket, which the role may use under backups/ only.
    assert!(
        script.contains("[backup.s3]\nbucket = \"photoscale-zero-123456789012-eu-west-1-app\""),
        "{script}"
    );
    let backups = role_policy(
        &clients,
        "photoscale-zero-app-eu-west-1",
        "photoscale-backups",
    )
    .await;
    assert_eq!(
        backups["Statement"][0]["Resource"],
        "arn:aws:s3:::photoscale-zero-123456789012-eu-west-1-app/backups/*"
    );
    let secrets = clients
        .ssm
        .get_parameter()
        .name("/photoscale/zero/secrets")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let value = secrets.parameter().unwrap().value().unwrap();
    for line in value.lines() {
        let secret = line.split_once('=').unwrap().1;
        assert!(!script.contains(secret), "a secret is in the user data");
    }
}

fn decode(base64_text: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(base64_text)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn level_1_is_a_load_balancer_two_instances_a_database_and_a_cache() {
    let moto = Moto::start().await;
    let options = moto.options("one");
    let report = aws::up(&spec(1), &options).await.unwrap();
    let clients = moto.clients().await;
    let lb = clients
        .elb
        .describe_load_balancers()
        .names("photoscale-one")
        .send()
        .await
        .unwrap();
    let lb = &lb.load_balancers()[0];
    assert_eq!(lb.scheme().unwrap().as_str(), "internet-facing");
    assert_eq!(
        report.url,
        Some(format!("http://{}/", lb.dns_name().unwrap()))
    );
    let groups = clients
        .elb
        .describe_target_groups()
        .names("photoscale-one")
        .send()
        .await
        .unwrap();
    let group = &groups.target_groups()[0];
    assert_eq!(group.health_check_path(), Some("/healthz"));
    assert_eq!(group.port(), Some(8080));
    assert_eq!(group.matcher().and_then(|m| m.http_code()), Some("200"));
    assert_eq!(group.health_check_interval_seconds(), Some(10));
    let listeners = clients
        .elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let ports: Vec<i32> = listeners
        .listeners()
        .iter()
        .filter_map(|l| l.port())
        .collect();
    assert_eq!(ports, [80]);
    let forward = &listeners.listeners()[0].default_actions()[0];
    assert_eq!(forward.target_group_arn(), group.target_group_arn());
    let health = clients
        .elb
        .describe_target_health()
        .target_group_arn(group.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.target_health_descriptions().len(),
        2,
        "two instances registered"
    );
    assert_eq!(running_instances(&clients, "one").await.len(), 2);

    // Each tier lets in only the one above it.
    assert_eq!(
        rules_of(&clients, "one", "lb").await,
        [(80, "0.0.0.0/0".to_owned())]
    );
    assert_eq!(
        rules_of(&clients, "one", "app").await,
        [(8080, "photoscale-one-lb".to_owned())]
    );
    assert_eq!(
        rules_of(&clients, "one", "db").await,
        [(3306, "photoscale-one-app".to_owned())]
    );
    assert_eq!(
        rules_of(&clients, "one", "cache").await,
        [(11211, "photoscale-one-app".to_owned())]
    );

    let db = clients
        .rds
        .describe_db_instances()
        .db_instance_identifier("photoscale-one")
        .send()
        .await
        .unwrap();
    let db = &db.db_instances()[0];
    assert_eq!(db.engine(), Some("mysql"));
    assert_eq!(
        db.engine_version(),
        Some("8.4"),
        "a pinned major in standard support (moto does not model the declined Extended Support)"
    );
    assert_eq!(db.publicly_accessible(), Some(false));
    assert!(
        db.backup_retention_period().unwrap_or(0) >= 1,
        "RDS automated backups stay on (beside `photoscale backup`)"
    );
    let db_groups: Vec<&str> = db
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    let db_group = clients
        .ec2
        .describe_security_groups()
        .filters(tag_filter("one"))
        .send()
        .await
        .unwrap();
    let db_group = db_group
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some("photoscale-one-db"))
        .and_then(|g| g.group_id())
        .unwrap();
    assert_eq!(db_groups, [db_group]);
    let cache = clients
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("photoscale-one")
        .send()
        .await
        .unwrap();
    let cache = &cache.cache_clusters()[0];
    assert_eq!(cache.engine(), Some("memcached"));

    // Both data services sit in subnet groups of the stack's own subnets
    // (one per zone, at most three), not in the default VPC's default group.
    let lb_subnets: BTreeSet<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_owned))
        .collect();
    assert_eq!(
        lb_subnets.len(),
        3,
        "one subnet in each of eu-west-1's three zones"
    );
    let db_subnet_group = db.db_subnet_group().unwrap();
    assert_eq!(
        db_subnet_group.db_subnet_group_name(),
        Some("photoscale-one")
    );
    let db_subnets: BTreeSet<String> = db_subnet_group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_owned))
        .collect();
    assert_eq!(db_subnets, lb_subnets);
    assert_eq!(cache.cache_subnet_group_name(), Some("photoscale-one"));
    let cache_groups = clients
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("photoscale-one")
        .send()
        .await
        .unwrap();
    let cache_subnets: BTreeSet<String> = cache_groups.cache_subnet_groups()[0]
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_owned))
        .collect();
    assert_eq!(cache_subnets, lb_subnets);

    // The instances' configuration points at both; the password is not in it.
    let instance = &running_instances(&clients, "one").await[0];
    let user_data = clients
        .ec2
        .describe_instance_attribute()
        .instance_id(instance.instance_id().unwrap())
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let script = decode(user_data.user_data().unwrap().value().unwrap());
    let endpoint = db.endpoint().unwrap().address().unwrap();
    assert!(
        script.contains(&format!("@{endpoint}:3306/photoscale")),
        "{script}"
    );
    assert!(
        script.contains("backend = \"memcached\"\nurl = \"memcache://"),
        "{script}"
    );
}

#[tokio::test]
async fn level_2_keeps_photos_in_a_private_bucket_the_role_alone_may_use() {
    let moto = Moto::start().await;
    let options = moto.options("two");
    aws::up(&spec(2), &options).await.unwrap();
    let clients = moto.clients().await;
    let bucket = StackName::parse("two")
        .unwrap()
        .bucket("123456789012", "eu-west-1");
    let block = clients
        .s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(block.block_public_acls(), Some(true));
    assert_eq!(block.ignore_public_acls(), Some(true));
    assert_eq!(block.block_public_policy(), Some(true));
    assert_eq!(block.restrict_public_buckets(), Some(true));
    let policy = clients
        .s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );

    let photos = role_policy(
        &clients,
        "photoscale-two-app-eu-west-1",
        "photoscale-photos",
    )
    .await;
    let statements = photos["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert_eq!(
        statements[0]["Action"],
        serde_json::json!(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
    );
    assert_eq!(
        statements[0]["Resource"],
        format!("arn:aws:s3:::{bucket}/*")
    );
    assert_eq!(statements[1]["Action"], "s3:ListBucket");
    assert_eq!(statements[1]["Resource"], format!("arn:aws:s3:::{bucket}"));
    assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    let policies = clients
        .iam
        .list_role_policies()
        .role_name("photoscale-two-app-eu-west-1")
        .send()
        .await
        .unwrap();
    let mut names = policies.policy_names().to_vec();
    names.sort();
    assert_eq!(
        names,
        ["photoscale-photos", "photoscale-secrets"],
        "nothing else is allowed"
    );
    let attached = clients
        .iam
        .list_attached_role_policies()
        .role_name("photoscale-two-app-eu-west-1")
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "no managed policy widens it"
    );

    // The instances use the role, not keys.
    let profile = clients
        .iam
        .get_instance_profile()
        .instance_profile_name("photoscale-two-app-eu-west-1")
        .send()
        .await
        .unwrap();
    let profile = profile.instance_profile().unwrap();
    assert_eq!(
        profile.roles()[0].role_name(),
        "photoscale-two-app-eu-west-1"
    );
    for instance in running_instances(&clients, "two").await {
        assert_eq!(
            instance.iam_instance_profile().and_then(|p| p.arn()),
            Some(profile.arn())
        );
    }
    let users = clients.iam.list_users().send().await.unwrap();
    assert!(users.users().is_empty(), "no IAM user, so no access keys");
}

#[tokio::test]
async fn level_3_scales_on_the_load_balancers_response_time() {
    let moto = Moto::start().await;
    let options = moto.options("three");
    aws::up(&spec(3), &options).await.unwrap();
    let clients = moto.clients().await;
    let groups = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("photoscale-three")
        .send()
        .await
        .unwrap();
    let group = &groups.auto_scaling_groups()[0];
    assert_eq!(
        (group.min_size(), group.max_size(), group.desired_capacity()),
        (Some(2), Some(6), Some(2))
    );
    assert_eq!(group.health_check_type(), Some("ELB"));
    assert_eq!(
        group.health_check_grace_period(),
        Some(300),
        "a real boot takes minutes: 300 s on AWS (60 s locally)"
    );
    let tg = clients
        .elb
        .describe_target_groups()
        .names("photoscale-three")
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap();
    assert_eq!(group.target_group_arns(), [tg_arn.to_owned()]);
    let attributes = clients
        .elb
        .describe_target_group_attributes()
        .target_group_arn(tg_arn)
        .send()
        .await
        .unwrap();
    let drain = attributes
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value());
    assert_eq!(
        drain,
        Some("30"),
        "a retired instance finishes its requests in 30 s, not AWS's 300"
    );
    let template = group.launch_template().expect("launched from the template");
    assert!(template
        .launch_template_name()
        .unwrap()
        .starts_with("photoscale-three-"));
    let standalone: Vec<_> = running_instances(&clients, "three")
        .await
        .into_iter()
        .filter(|i| tag(i, "aws:autoscaling:groupName").is_none())
        .collect();
    assert!(standalone.is_empty(), "the group runs every instance");

    let policies = clients
        .autoscaling
        .describe_policies()
        .auto_scaling_group_name("photoscale-three")
        .send()
        .await
        .unwrap();
    let mut adjustments: Vec<(String, i32, i32, String, String)> = policies
        .scaling_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap().to_owned(),
                p.scaling_adjustment().unwrap(),
                p.cooldown().unwrap(),
                p.policy_type().unwrap().to_owned(),
                p.adjustment_type().unwrap().to_owned(),
            )
        })
        .collect();
    adjustments.sort();
    let simple = |name: &str, by| {
        (
            name.to_owned(),
            by,
            300,
            "SimpleScaling".to_owned(),
            "ChangeInCapacity".to_owned(),
        )
    };
    assert_eq!(
        adjustments,
        [simple("scale-in", -1), simple("scale-out", 1)]
    );

    let alarms = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix("photoscale-three-")
        .send()
        .await
        .unwrap();
    let alarms = alarms.metric_alarms();
    assert_eq!(alarms.len(), 2);
    for alarm in alarms {
        assert_eq!(alarm.namespace(), Some("AWS/ApplicationELB"));
        assert_eq!(alarm.metric_name(), Some("TargetResponseTime"));
        assert_eq!(alarm.statistic().map(|s| s.as_str()), Some("Average"));
        assert_eq!(
            (alarm.period(), alarm.evaluation_periods()),
            (Some(60), Some(1))
        );
        let dimensions: Vec<&str> = alarm.dimensions().iter().filter_map(|d| d.name()).collect();
        assert_eq!(dimensions, ["LoadBalancer", "TargetGroup"]);
        let policy = policies
            .scaling_policies()
            .iter()
            .find(|p| {
                alarm
                    .alarm_actions()
                    .contains(&p.policy_arn().unwrap().to_owned())
            })
            .unwrap_or_else(|| {
                panic!(
                    "the alarm triggers a policy: {:?} vs {:?}",
                    alarm.alarm_actions(),
                    policies.scaling_policies()
                )
            });
        match alarm.alarm_name().unwrap() {
            "photoscale-three-latency-high" => {
                assert_eq!(alarm.threshold(), Some(1.0));
                assert_eq!(
                    alarm.comparison_operator().unwrap().as_str(),
                    "GreaterThanThreshold"
                );
                assert_eq!(
                    alarm.treat_missing_data(),
                    Some("notBreaching"),
                    "no traffic is not slow"
                );
                assert_eq!(policy.scaling_adjustment(), Some(1));
            }
            "photoscale-three-latency-low" => {
                assert_eq!(alarm.threshold(), Some(0.5));
                assert_eq!(
                    alarm.comparison_operator().unwrap().as_str(),
                    "LessThanThreshold"
                );
                assert_eq!(
                    alarm.treat_missing_data(),
                    Some("breaching"),
                    "no traffic lets the fleet shrink to its minimum"
                );
                assert_eq!(policy.scaling_adjustment(), Some(-1));
            }
            other => panic!("unexpected alarm {other}"),
        }
    }

    // Scheduled scaling: our actions become the group's scheduled actions.
    let weekday = photoscale_infra::schedule::ScheduledAction {
        name: "weekday-mornings".into(),
        cron: Some("0 8 * * 1-5".into()),
        at: None,
        time_zone: "Europe/Paris".into(),
        min: Some(3),
        max: Some(6),
        desired: None,
    };
    let once = photoscale_infra::schedule::ScheduledAction {
        name: "launch-day".into(),
        cron: None,
        at: Some("2030-06-01T09:30:00Z".into()),
        time_zone: "UTC".into(),
        min: None,
        max: None,
        desired: Some(5),
    };
    aws::schedules::put(&options, &[weekday.clone(), once.clone()])
        .await
        .unwrap();
    let actions = clients
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name("photoscale-three")
        .send()
        .await
        .unwrap();
    let by_name = |name: &str| {
        actions
            .scheduled_update_group_actions()
            .iter()
            .find(|a| a.scheduled_action_name() == Some(name))
            .unwrap_or_else(|| panic!("no {name}: {actions:?}"))
            .clone()
    };
    let aws_weekday = by_name("weekday-mornings");
    assert_eq!(aws_weekday.recurrence(), Some("0 8 * * 1-5"));
    assert_eq!(
        (
            aws_weekday.min_size(),
            aws_weekday.max_size(),
            aws_weekday.desired_capacity()
        ),
        (Some(3), Some(6), None)
    );
    let aws_once = by_name("launch-day");
    assert_eq!(aws_once.recurrence(), None);
    assert_eq!(aws_once.desired_capacity(), Some(5));
    assert_eq!(
        aws_once.start_time().map(|t| t.secs()),
        Some(
            "2030-06-01T09:30:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_second()
        )
    );
    // Read back into our terms, and replaced by name.
    let listed = aws::schedules::list(&options).await.unwrap();
    assert!(listed.contains(&once), "{listed:?}");
    let mut evenings = weekday.clone();
    evenings.cron = Some("0 20 * * 1-5".into());
    aws::schedules::put(&options, &[evenings]).await.unwrap();
    let listed = aws::schedules::list(&options).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .any(|a| a.cron.as_deref() == Some("0 20 * * 1-5")));
    aws::schedules::remove(&options, "launch-day")
        .await
        .unwrap();
    let unknown = aws::schedules::remove(&options, "launch-day")
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no scheduled action named"),
        "{unknown}"
    );
    // A stack without a group is refused.
    let refused = aws::schedules::put(&moto.options("nogroup"), &[weekday])
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("needs level 3 or 4"),
        "{refused}"
    );
}

#[tokio::test]
async fn level_4_configures_the_feed_cache_and_rolls_the_group() {
    let moto = Moto::start().await;
    let options = moto.options("four");
    aws::up(&spec(3), &options).await.unwrap();
    let clients = moto.clients().await;
    let before: Vec<String> = running_instances(&clients, "four")
        .await
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    let report = aws::up(&spec(4), &options).await.unwrap();
    assert!(!report.changed_nothing());
    let templates = clients
        .ec2
        .describe_launch_templates()
        .filters(tag_filter("four"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        templates.launch_templates().len(),
        1,
        "the old configuration's template is gone"
    );
    let template = &templates.launch_templates()[0];
    let groups = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("photoscale-four")
        .send()
        .await
        .unwrap();
    let in_use = groups.auto_scaling_groups()[0].launch_template().unwrap();
    assert_eq!(
        in_use.launch_template_id(),
        template.launch_template_id(),
        "the group uses the new template"
    );
    let versions = clients
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(template.launch_template_id().unwrap())
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .user_data()
        .unwrap();
    let script = decode(data);
    assert!(
        script.contains("[cache]\nbackend = \"memcached\"\nurl = \"memcache://"),
        "{script}"
    );
    let after: Vec<String> = running_instances(&clients, "four")
        .await
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    assert_eq!(after.len(), 2);
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "every instance was replaced: {before:?} → {after:?}"
    );
}
