//! App delivery: `up` uploads the program to the stack's artifacts bucket
//! under its SHA-256; instances fetch that key with their role, which may
//! read nothing else; the hash, not where it came from, is the fingerprint.

use base64::Engine;
use photoscale_infra::aws::{self, Clients};

use crate::moto::{spec, Moto};

const PROGRAM: &str = "/bin/true";

fn sha256_of(path: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

async fn user_data(clients: &Clients, instance: &str) -> String {
    let out = clients
        .ec2
        .describe_instance_attribute()
        .instance_id(instance)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let encoded = out.user_data().and_then(|v| v.value()).unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_binary_goes_through_the_artifacts_bucket() {
    let moto = Moto::start().await;
    let mut options = moto.options("ship");
    options.app.url = None;
    options.app.sha256 = None;
    options.app.binary = Some(PROGRAM.into());
    aws::up(&spec(0), &options).await.unwrap();
    let clients = moto.clients().await;
    let sha256 = sha256_of(PROGRAM);
    let bucket = "photoscale-ship-123456789012-eu-west-1-app";
    let key = format!("photoscale/{sha256}");
    let object = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.as_ref(), std::fs::read(PROGRAM).unwrap());
    let block = clients
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        block.block_public_policy(),
        Some(true),
        "private like the photo bucket"
    );

    let role = "photoscale-ship-app-eu-west-1";
    let policy = clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("photoscale-app-binary")
        .send()
        .await
        .unwrap();
    let document = percent_encoding::percent_decode_str(policy.policy_document())
        .decode_utf8()
        .unwrap();
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(document["Statement"][0]["Action"], "s3:GetObject");
    assert_eq!(
        document["Statement"][0]["Resource"],
        format!("arn:aws:s3:::{bucket}/{key}"),
        "that one object, nothing else"
    );

    let found = aws::status(&options).await.unwrap();
    let script = user_data(&clients, &found.instances[0].id).await;
    assert!(
        script.contains(&format!("APP_BUCKET='{bucket}'")),
        "{script}"
    );
    assert!(script.contains(&format!("APP_KEY='{key}'")), "{script}");
    assert!(
        script.contains(&format!("APP_SHA256='{sha256}'")),
        "{script}"
    );

    // The same program again changes nothing; --app-url for the same hash
    // does not replace the fleet either (the hash is the fingerprint).
    let again = aws::up(&spec(0), &options).await.unwrap();
    assert!(again.changed_nothing(), "{:#?}", again.changes);
    let mut hosted = options.clone();
    hosted.app.binary = None;
    hosted.app.url = Some("https://downloads.example/photoscale".into());
    hosted.app.sha256 = Some(sha256.clone());
    let (_, plan) = aws::plan(&spec(0), &hosted).await.unwrap();
    assert!(
        plan.iter()
            .filter(|c| c.kind == "instance")
            .all(|c| c.action == aws::Action::Keep),
        "{plan:#?}"
    );

    aws::down(&options).await.unwrap();
    let gone = clients.s3.head_bucket().bucket(bucket).send().await;
    assert!(gone.is_err(), "down deletes the artifacts bucket");
}
