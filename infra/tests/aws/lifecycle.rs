//! `up` twice, level changes, and `down`.

use photoscale_infra::aws::{self, Action};

use crate::moto::{spec, Moto};
use crate::sweep::{assert_nothing_tagged, resource_ids};

#[tokio::test]
async fn up_twice_creates_nothing_new() {
    let moto = Moto::start().await;
    let options = moto.options("twice");
    aws::up(&spec(3), &options).await.unwrap();
    let clients = moto.clients().await;
    let first = resource_ids(&clients, "twice").await;
    let again = aws::up(&spec(3), &options).await.unwrap();
    assert!(again.changed_nothing(), "{:#?}", again.changes);
    assert_eq!(resource_ids(&clients, "twice").await, first);
    let (_, plan) = aws::plan(&spec(3), &options).await.unwrap();
    assert!(aws::plan::nothing_to_do(&plan), "{plan:#?}");
}

#[tokio::test]
async fn level_2_to_3_to_2() {
    let moto = Moto::start().await;
    let options = moto.options("ladder");
    aws::up(&spec(2), &options).await.unwrap();
    let at2 = aws::status(&options).await.unwrap();
    assert_eq!(at2.instances.len(), 2);

    let (_, plan) = aws::plan(&spec(3), &options).await.unwrap();
    let created: Vec<&str> = plan
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.kind)
        .collect();
    assert!(
        created.contains(&"Auto Scaling group") && created.contains(&"launch template"),
        "{plan:#?}"
    );
    assert!(plan
        .iter()
        .all(|c| c.kind != "bucket" || c.action == Action::Keep));
    aws::up(&spec(3), &options).await.unwrap();
    let at3 = aws::status(&options).await.unwrap();
    assert!(
        at3.instances.is_empty(),
        "standalone instances retired: {:?}",
        at3.instances
    );
    assert_eq!(at3.group_instances.len(), 2);
    assert_eq!(at3.alarms.len(), 2);
    assert_eq!(at3.bucket, at2.bucket, "the same bucket");
    assert_eq!(
        at3.load_balancer.as_ref().map(|l| &l.arn),
        at2.load_balancer.as_ref().map(|l| &l.arn)
    );

    aws::up(&spec(2), &options).await.unwrap();
    let back = aws::status(&options).await.unwrap();
    assert!(back.auto_scaling_group.is_none() && back.launch_templates.is_empty());
    assert!(back.alarms.is_empty() && back.group_instances.is_empty());
    assert_eq!(back.instances.len(), 2);
    assert!(back.instances.iter().all(|i| i.state == "running"));
    assert_eq!(back.bucket, at2.bucket);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(aws::state_file(moto.state_dir.path(), &options.stack)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["instances"].as_array().unwrap().len(),
        2,
        "the state file follows"
    );
}

#[tokio::test]
async fn going_down_a_level_keeps_the_data_and_down_deletes_everything() {
    let moto = Moto::start().await;
    let options = moto.options("gone");
    aws::up(&spec(4), &options).await.unwrap();
    aws::up(&spec(1), &options).await.unwrap();
    let at1 = aws::status(&options).await.unwrap();
    assert!(at1.bucket.is_some(), "photos stay until down");
    assert!(at1.database.is_some());
    assert!(at1.auto_scaling_group.is_none());
    assert!(
        !at1.iam
            .role_policies
            .contains(&"photoscale-photos".to_owned()),
        "instances lose the bucket"
    );

    let report = aws::down(&options).await.unwrap();
    assert!(
        report.deleted.iter().any(|d| d.starts_with("database")),
        "{:?}",
        report.deleted
    );
    let clients = moto.clients().await;
    assert_nothing_tagged(&clients, "gone").await;
    assert!(!aws::state_file(moto.state_dir.path(), &options.stack).exists());
    // Again, with nothing left: nothing to do, no error.
    assert!(aws::down(&options).await.unwrap().deleted.is_empty());
}

#[tokio::test]
async fn down_finds_leftovers_without_a_state_file_and_leaves_other_stacks() {
    let moto = Moto::start().await;
    let ours = moto.options("ours");
    let theirs = moto.options("theirs");
    aws::up(&spec(3), &ours).await.unwrap();
    aws::up(&spec(1), &theirs).await.unwrap();
    std::fs::remove_file(aws::state_file(moto.state_dir.path(), &ours.stack)).unwrap();
    aws::down(&ours).await.unwrap();
    let clients = moto.clients().await;
    assert_nothing_tagged(&clients, "ours").await;
    let left = aws::status(&theirs).await.unwrap();
    assert_eq!(left.instances.len(), 2, "the other stack is untouched");
    assert!(left.load_balancer.is_some() && left.database.is_some());
}

#[tokio::test]
async fn stacks_whose_names_share_a_prefix_keep_their_own_alarms() {
    let moto = Moto::start().await;
    let demo = moto.options("demo");
    let demo_b = moto.options("demo-b");
    aws::up(&spec(3), &demo).await.unwrap();
    aws::up(&spec(3), &demo_b).await.unwrap();
    let alarms = aws::status(&demo).await.unwrap().alarms;
    assert_eq!(
        alarms,
        [
            "photoscale-demo-latency-high",
            "photoscale-demo-latency-low"
        ],
        "demo's alarms, not demo-b's, whose names start the same"
    );
    // demo leaves level 3 (its alarms go), then goes down: demo-b keeps its own.
    aws::up(&spec(2), &demo).await.unwrap();
    assert_eq!(aws::status(&demo_b).await.unwrap().alarms.len(), 2);
    aws::down(&demo).await.unwrap();
    assert_eq!(
        aws::status(&demo_b).await.unwrap().alarms,
        [
            "photoscale-demo-b-latency-high",
            "photoscale-demo-b-latency-low"
        ]
    );
}

/// Port 80's default action and whether there is a 443 listener.
async fn listeners(moto: &Moto, options: &aws::AwsOptions) -> (String, Option<String>, bool) {
    let found = aws::status(options).await.unwrap();
    let lb = found.load_balancer.expect("a load balancer");
    let out = moto
        .clients()
        .await
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb.arn)
        .send()
        .await
        .unwrap();
    let on_80 = out
        .listeners()
        .iter()
        .find(|l| l.port() == Some(80))
        .and_then(|l| l.default_actions().first())
        .expect("a listener on 80");
    let redirect = on_80
        .redirect_config()
        .map(|r| format!("{:?} {:?} {:?}", r.protocol(), r.port(), r.status_code()));
    let has_443 = out.listeners().iter().any(|l| l.port() == Some(443));
    (
        on_80.r#type().unwrap().as_str().to_owned(),
        redirect,
        has_443,
    )
}

#[tokio::test]
async fn with_a_certificate_port_80_redirects_to_https() {
    let moto = Moto::start().await;
    let certificate = moto
        .clients()
        .await
        .iam
        .upload_server_certificate()
        .server_certificate_name("demo-cert")
        .certificate_body("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
        .private_key("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----")
        .send()
        .await
        .unwrap();
    let arn = certificate
        .server_certificate_metadata()
        .unwrap()
        .arn()
        .to_owned();
    let mut options = moto.options("tls");
    options.certificate_arn = Some(arn);
    aws::up(&spec(1), &options).await.unwrap();
    assert_eq!(
        listeners(&moto, &options).await,
        (
            "redirect".to_owned(),
            Some(r#"Some("HTTPS") Some("443") Some(Http301)"#.to_owned()),
            true
        ),
        "the session cookie is Secure: plain HTTP only redirects"
    );
    // Without the certificate again: 80 forwards, 443 goes.
    options.certificate_arn = None;
    aws::up(&spec(1), &options).await.unwrap();
    assert_eq!(
        listeners(&moto, &options).await,
        ("forward".to_owned(), None, false)
    );
}

#[tokio::test]
async fn missing_app_url_and_unreachable_endpoint_are_explained() {
    let moto = Moto::start().await;
    let mut options = moto.options("errors");
    options.app.url = None;
    let error = aws::up(&spec(0), &options).await.unwrap_err().to_string();
    assert!(error.contains("--app-url"), "{error}");
    let mut options = moto.options("errors");
    options.connection.endpoint_url = Some("http://127.0.0.1:9".into());
    let error = aws::up(&spec(0), &options).await.unwrap_err().to_string();
    assert!(
        error.contains("GetCallerIdentity") && error.contains("fix:"),
        "{error}"
    );
    let clients = moto.clients().await;
    assert_nothing_tagged(&clients, "errors").await;
}

#[tokio::test]
async fn a_failed_up_is_finished_by_the_next_one() {
    let moto = Moto::start().await;
    let mut options = moto.options("resume");
    options.ami = Some("ami-0000000000000dead".into());
    let error = aws::up(&spec(1), &options).await.unwrap_err().to_string();
    assert!(
        error.contains("RunInstances") && error.contains("--ami"),
        "{error}"
    );
    let clients = moto.clients().await;
    let half = resource_ids(&clients, "resume").await;
    assert!(
        half.iter().any(|r| r.starts_with("database")),
        "got this far: {half:#?}"
    );

    options.ami = None;
    aws::up(&spec(1), &options).await.unwrap();
    let done = aws::status(&options).await.unwrap();
    assert_eq!(done.instances.len(), 2);
    let whole = resource_ids(&clients, "resume").await;
    assert!(
        half.iter().all(|r| whole.contains(r)),
        "what the first run made was reused"
    );
    let databases = whole.iter().filter(|r| r.starts_with("database")).count();
    assert_eq!(databases, 1);
}

#[tokio::test]
async fn alarm_notifications_go_to_a_topic_of_the_stack() {
    let moto = Moto::start().await;
    let mut options = moto.options("notify");
    options.notify_email = Some("ops@example.com".into());
    aws::up(&spec(3), &options).await.unwrap();
    let clients = moto.clients().await;
    let found = aws::status(&options).await.unwrap();
    let topic = found.topic.clone().expect("a topic");
    assert!(topic.ends_with(":photoscale-notify-scaling"));
    let subscriptions = clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let endpoints: Vec<_> = subscriptions
        .subscriptions()
        .iter()
        .filter_map(|s| s.endpoint())
        .collect();
    assert_eq!(endpoints, ["ops@example.com"]);
    let alarms = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix("photoscale-notify-")
        .send()
        .await
        .unwrap();
    for alarm in alarms.metric_alarms() {
        assert!(
            alarm.alarm_actions().contains(&topic),
            "{:?}",
            alarm.alarm_actions()
        );
    }
    aws::up(&spec(3), &options).await.unwrap();
    let again = clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(again.subscriptions().len(), 1, "subscribed once");
    aws::down(&options).await.unwrap();
    assert_nothing_tagged(&clients, "notify").await;
}

#[tokio::test]
async fn down_with_a_final_snapshot_keeps_one_of_the_database() {
    let moto = Moto::start().await;
    let mut options = moto.options("snap");
    aws::up(&spec(1), &options).await.unwrap();
    options.final_snapshot = true;
    aws::down(&options).await.unwrap();
    let clients = moto.clients().await;
    let snapshots = clients.rds.describe_db_snapshots().send().await.unwrap();
    let names: Vec<&str> = snapshots
        .db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("photoscale-snap-final-")),
        "{names:?}"
    );
    assert_nothing_tagged(&clients, "snap").await;
}

#[tokio::test]
async fn level_0_to_1_closes_the_direct_port_once_the_load_balancer_serves() {
    let moto = Moto::start().await;
    let options = moto.options("grow");
    aws::up(&spec(0), &options).await.unwrap();
    aws::up(&spec(1), &options).await.unwrap();
    let found = aws::status(&options).await.unwrap();
    assert_eq!(found.instances.len(), 2, "the level-0 instance retired");
    let clients = moto.clients().await;
    let app = &found.security_groups["app"];
    let groups = clients
        .ec2
        .describe_security_groups()
        .group_ids(app)
        .send()
        .await
        .unwrap();
    let rules = groups.security_groups()[0].ip_permissions();
    assert_eq!(rules.len(), 1, "{rules:#?}");
    assert_eq!(rules[0].from_port(), Some(8080));
    assert!(
        rules[0].ip_ranges().is_empty(),
        "no longer open to the world"
    );
    assert_eq!(
        rules[0].user_id_group_pairs()[0].group_id(),
        Some(found.security_groups["lb"].as_str())
    );
}
