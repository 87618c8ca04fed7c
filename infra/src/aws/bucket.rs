//! The photo bucket (level 2+): private, every kind of public access blocked,
//! objects owned by the bucket owner, encrypted at rest, and a policy that
//! refuses requests not made over TLS.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use serde_json::json;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::iam::partition;
use super::names::StackName;

/// Deny anything not over TLS, whoever asks.
pub fn bucket_policy(region: &str, bucket: &str) -> String {
    let partition = partition(region);
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                format!("arn:{partition}:s3:::{bucket}"),
                format!("arn:{partition}:s3:::{bucket}/*")
            ],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    })
    .to_string()
}

/// Which requests the bucket's policy refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Anything not over TLS (the policy of every bucket on AWS).
    TlsOnly,
    /// No policy: against an emulator for a bucket whose objects `up`
    /// writes itself. moto applies a policy's Deny without reading its
    /// condition, so the TLS-only policy would refuse every object request.
    Unrestricted,
}

pub async fn ensure(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    name: &str,
    exists: bool,
    transport: Transport,
) -> Result<(), AwsError> {
    let s3 = &clients.s3;
    if !exists {
        let mut create = s3.create_bucket().bucket(name);
        // us-east-1 is the one region that must not be named.
        if clients.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(clients.region.as_str()))
                    .build(),
            );
        }
        create.send().await.map_err(api("CreateBucket", name))?;
    }
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(block)
        .send()
        .await
        .map_err(api("PutPublicAccessBlock", name))?;
    let owner = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .expect("ownership is set");
    s3.put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(owner)
                .build()
                .expect("rules are set"),
        )
        .send()
        .await
        .map_err(api("PutBucketOwnershipControls", name))?;
    let encryption = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .expect("algorithm is set"),
        )
        .build();
    s3.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(encryption)
                .build()
                .expect("rules are set"),
        )
        .send()
        .await
        .map_err(api("PutBucketEncryption", name))?;
    if transport == Transport::TlsOnly {
        s3.put_bucket_policy()
            .bucket(name)
            .policy(bucket_policy(&clients.region, name))
            .send()
            .await
            .map_err(api("PutBucketPolicy", name))?;
    }
    let tags = super::names::tags(stack, level).into_iter().map(|(k, v)| {
        Tag::builder()
            .key(k)
            .value(v)
            .build()
            .expect("key and value are set")
    });
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(tags.collect()))
                .build()
                .expect("tags are set"),
        )
        .send()
        .await
        .map_err(api("PutBucketTagging", name))?;
    Ok(())
}

/// Deletes every object (and version), then the bucket.
pub async fn delete(clients: &Clients, name: &str) -> Result<(), AwsError> {
    let s3 = &clients.s3;
    loop {
        let page = match s3.list_object_versions().bucket(name).send().await {
            Ok(page) => page,
            Err(e) if code_of(&e) == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(api("ListObjectVersions", name)(e)),
        };
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let objects: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if objects.is_empty() {
            break;
        }
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .expect("objects are set");
        let deleted = s3
            .delete_objects()
            .bucket(name)
            .delete(delete)
            .send()
            .await
            .map_err(api("DeleteObjects", name))?;
        // A refused object (Object Lock, a bucket policy) would be listed
        // again and again: stop and say which, instead of spinning.
        if let Some(refused) = deleted.errors().first() {
            return Err(AwsError::Invalid(format!(
                "S3 refused to delete {} object(s) of bucket {name}, e.g. {}: {}: {}\n  fix: lift what protects them (Object Lock, a bucket policy), then run `photoscale infra down --target aws` again",
                deleted.errors().len(),
                refused.key().unwrap_or("?"),
                refused.code().unwrap_or("?"),
                refused.message().unwrap_or("")
            )));
        }
    }
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if code_of(&e) == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(api("DeleteBucket", name)(e)),
    }
}
