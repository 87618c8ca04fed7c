//! The instances' identity: an IAM role EC2 may assume, its instance profile,
//! and inline policies that allow exactly what photoscale does: read the
//! stack's secrets, and (level 2+) use the objects of the photo bucket.
//! Instances never hold access keys.

use aws_sdk_iam::types::Tag;
use serde_json::json;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::names::StackName;
use super::plan::{PHOTOS_POLICY, SECRETS_POLICY};

/// `aws`, or `aws-cn` / `aws-us-gov` for those regions.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// Read the one parameter holding the stack's secrets.
pub fn secrets_policy(clients: &Clients, stack: &StackName) -> String {
    let arn = format!(
        "arn:{}:ssm:{}:{}:parameter{}",
        partition(&clients.region),
        clients.region,
        clients.account,
        stack.secrets_parameter()
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn }]
    })
    .to_string()
}

/// Put, get and delete photos in one bucket. `s3:ListBucket` is there only
/// because the app checks the bucket with HeadBucket at start, which needs it.
pub fn photos_policy(region: &str, bucket: &str) -> String {
    let partition = partition(region);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": format!("arn:{partition}:s3:::{bucket}/*")
            },
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": format!("arn:{partition}:s3:::{bucket}")
            }
        ]
    })
    .to_string()
}

fn iam_tags(stack: &StackName, level: u8) -> Vec<Tag> {
    super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

/// The role, its profile and its policies; returns the profile's ARN.
pub async fn ensure(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    found: &super::Inventory,
    bucket: Option<&str>,
) -> Result<String, AwsError> {
    let name = stack.role();
    if found.role.is_none() {
        clients
            .iam
            .create_role()
            .role_name(&name)
            .description(format!("photoscale {stack}: the app instances"))
            .assume_role_policy_document(trust_policy())
            .set_tags(Some(iam_tags(stack, level)))
            .send()
            .await
            .map_err(api("CreateRole", &name))?;
    }
    put_policy(
        clients,
        &name,
        SECRETS_POLICY,
        secrets_policy(clients, stack),
    )
    .await?;
    match bucket {
        Some(bucket) => {
            put_policy(
                clients,
                &name,
                PHOTOS_POLICY,
                photos_policy(&clients.region, bucket),
            )
            .await?
        }
        None if found.role_policies.iter().any(|p| p == PHOTOS_POLICY) => {
            delete_policy(clients, &name, PHOTOS_POLICY).await?
        }
        None => {}
    }
    if let Some(arn) = &found.instance_profile {
        return Ok(arn.clone());
    }
    let profile = clients
        .iam
        .create_instance_profile()
        .instance_profile_name(&name)
        .set_tags(Some(iam_tags(stack, level)))
        .send()
        .await
        .map_err(api("CreateInstanceProfile", &name))?;
    clients
        .iam
        .add_role_to_instance_profile()
        .instance_profile_name(&name)
        .role_name(&name)
        .send()
        .await
        .map_err(api("AddRoleToInstanceProfile", &name))?;
    Ok(profile.instance_profile.map(|p| p.arn).unwrap_or_default())
}

async fn put_policy(
    clients: &Clients,
    role: &str,
    policy: &str,
    document: String,
) -> Result<(), AwsError> {
    clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(document)
        .send()
        .await
        .map_err(api("PutRolePolicy", format!("{role}/{policy}")))?;
    Ok(())
}

async fn delete_policy(clients: &Clients, role: &str, policy: &str) -> Result<(), AwsError> {
    match clients
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Ok(()),
        Err(e) => Err(api("DeleteRolePolicy", format!("{role}/{policy}"))(e)),
    }
}

/// Profile first (it holds the role), then the role's policies, then the role.
pub async fn delete(
    clients: &Clients,
    stack: &StackName,
    found: &super::Inventory,
) -> Result<(), AwsError> {
    let name = stack.role();
    if found.instance_profile.is_some() {
        let removed = clients
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(&name)
            .role_name(&name)
            .send()
            .await;
        match removed {
            Err(e) if code_of(&e) != Some("NoSuchEntity") => {
                return Err(api("RemoveRoleFromInstanceProfile", &name)(e))
            }
            _ => {}
        }
        match clients
            .iam
            .delete_instance_profile()
            .instance_profile_name(&name)
            .send()
            .await
        {
            Err(e) if code_of(&e) != Some("NoSuchEntity") => {
                return Err(api("DeleteInstanceProfile", &name)(e))
            }
            _ => {}
        }
    }
    if found.role.is_some() {
        for policy in &found.role_policies {
            delete_policy(clients, &name, policy).await?;
        }
        match clients.iam.delete_role().role_name(&name).send().await {
            Err(e) if code_of(&e) != Some("NoSuchEntity") => {
                return Err(api("DeleteRole", &name)(e))
            }
            _ => {}
        }
    }
    Ok(())
}
