//! The instances' role and profile: one per region (IAM is global), the
//! old region-less names found and removed, a profile without its role
//! repaired, and Session Manager's policy only with `--ssm-access`.

use aws_sdk_iam::types::Tag;
use photoscale_infra::aws::{self, Clients};

use crate::moto::{spec, Moto};

async fn role_exists(clients: &Clients, name: &str) -> bool {
    clients.iam.get_role().role_name(name).send().await.is_ok()
}

async fn profile_roles(clients: &Clients, name: &str) -> Option<Vec<String>> {
    let out = clients
        .iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .ok()?;
    Some(
        out.instance_profile()?
            .roles()
            .iter()
            .map(|r| r.role_name().to_owned())
            .collect(),
    )
}

async fn secrets_resource(clients: &Clients, role: &str) -> String {
    let out = clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("photoscale-secrets")
        .send()
        .await
        .unwrap();
    let document = percent_encoding::percent_decode_str(out.policy_document())
        .decode_utf8()
        .unwrap();
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    document["Statement"][0]["Resource"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn one_stack_name_in_two_regions_has_a_role_in_each() {
    let moto = Moto::start().await;
    let west = moto.options("twin");
    let mut east = moto.options("twin");
    east.connection.region = Some("us-east-1".into());
    aws::up(&spec(0), &west).await.unwrap();
    aws::up(&spec(0), &east).await.unwrap();
    let clients = moto.clients().await;
    let (west_role, east_role) = (
        "photoscale-twin-app-eu-west-1",
        "photoscale-twin-app-us-east-1",
    );
    assert!(secrets_resource(&clients, west_role)
        .await
        .contains(":ssm:eu-west-1:"));
    assert!(secrets_resource(&clients, east_role)
        .await
        .contains(":ssm:us-east-1:"));
    assert_eq!(
        profile_roles(&clients, east_role).await.unwrap(),
        [east_role]
    );

    aws::down(&west).await.unwrap();
    assert!(!role_exists(&clients, west_role).await);
    assert!(
        role_exists(&clients, east_role).await,
        "the other region's role stays"
    );
    assert_eq!(
        profile_roles(&clients, east_role).await.unwrap(),
        [east_role]
    );
    assert!(secrets_resource(&clients, east_role)
        .await
        .contains(":ssm:us-east-1:"));
}

/// A role and profile under the old region-less name, as `up` made them.
async fn make_legacy(clients: &Clients, stack: &str, secrets_region: &str) -> String {
    let name = format!("photoscale-{stack}-app");
    clients
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .tags(
            Tag::builder()
                .key("photoscale:stack")
                .value(stack)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter",
            "Resource": format!("arn:aws:ssm:{secrets_region}:123456789012:parameter/photoscale/{stack}/secrets")}]
    });
    clients
        .iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("photoscale-secrets")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    clients
        .iam
        .create_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await
        .unwrap();
    clients
        .iam
        .add_role_to_instance_profile()
        .instance_profile_name(&name)
        .role_name(&name)
        .send()
        .await
        .unwrap();
    name
}

#[tokio::test]
async fn the_old_role_name_is_replaced_once_the_instances_moved() {
    let moto = Moto::start().await;
    let clients = moto.clients().await;
    let legacy = make_legacy(&clients, "old", "eu-west-1").await;
    let options = moto.options("old");
    let (_, plan) = aws::plan(&spec(0), &options).await.unwrap();
    assert!(
        plan.iter()
            .any(|c| c.name == legacy && matches!(c.action, aws::Action::Replace(_))),
        "{plan:#?}"
    );
    aws::up(&spec(0), &options).await.unwrap();
    assert!(
        !role_exists(&clients, &legacy).await,
        "the old role is gone"
    );
    assert!(
        profile_roles(&clients, &legacy).await.is_none(),
        "the old profile is gone"
    );
    let new = "photoscale-old-app-eu-west-1";
    assert_eq!(profile_roles(&clients, new).await.unwrap(), [new]);
    let instances = aws::status(&options).await.unwrap().instances;
    assert_eq!(instances.len(), 1);
    let described = clients
        .ec2
        .describe_instances()
        .instance_ids(&instances[0].id)
        .send()
        .await
        .unwrap();
    let profile = described.reservations()[0].instances()[0]
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .unwrap();
    assert!(profile.ends_with(&format!("/{new}")), "{profile}");
}

#[tokio::test]
async fn an_old_role_another_region_uses_is_left_alone() {
    let moto = Moto::start().await;
    let clients = moto.clients().await;
    let legacy = make_legacy(&clients, "shared", "us-east-1").await;
    let options = moto.options("shared");
    aws::up(&spec(0), &options).await.unwrap();
    aws::down(&options).await.unwrap();
    assert!(
        role_exists(&clients, &legacy).await,
        "us-east-1's instances still use it"
    );
    assert_eq!(profile_roles(&clients, &legacy).await.unwrap(), [legacy]);
}

#[tokio::test]
async fn a_profile_without_its_role_is_repaired() {
    let moto = Moto::start().await;
    let options = moto.options("repair");
    aws::up(&spec(0), &options).await.unwrap();
    let clients = moto.clients().await;
    let name = "photoscale-repair-app-eu-west-1";
    // As after a run stopped between CreateInstanceProfile and AddRole.
    clients
        .iam
        .remove_role_from_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile_roles(&clients, name).await.unwrap(),
        Vec::<String>::new()
    );
    aws::up(&spec(0), &options).await.unwrap();
    assert_eq!(profile_roles(&clients, name).await.unwrap(), [name]);
}

#[tokio::test]
async fn session_manager_only_with_ssm_access() {
    let moto = Moto::start().await;
    let clients = moto.clients().await;
    let name = "photoscale-ssm-app-eu-west-1";
    let attached = || async {
        clients
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap()
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let mut options = moto.options("ssm");
    options.ssm_access = true;
    aws::up(&spec(0), &options).await.unwrap();
    assert_eq!(attached().await, ["AmazonSSMManagedInstanceCore"]);
    options.ssm_access = false;
    let (_, plan) = aws::plan(&spec(0), &options).await.unwrap();
    assert!(
        plan.iter()
            .any(|c| c.kind == "managed policy" && c.action == aws::Action::Delete),
        "{plan:#?}"
    );
    aws::up(&spec(0), &options).await.unwrap();
    assert!(attached().await.is_empty());
    options.ssm_access = true;
    aws::up(&spec(0), &options).await.unwrap();
    aws::down(&options).await.unwrap();
    assert!(
        !role_exists(&clients, name).await,
        "down detaches before deleting the role"
    );
}
