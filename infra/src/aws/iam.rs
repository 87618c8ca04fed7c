//! The instances' identity: an IAM role EC2 may assume, its instance profile,
//! and inline policies that allow exactly what photoscale does: read the
//! stack's secrets, and (level 2+) use the objects of the photo bucket.
//! Instances never hold access keys.

use aws_sdk_iam::types::Tag;
use serde::Serialize;
use serde_json::json;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::names::StackName;
use super::ownership::{has_stack_tag, not_ours};

/// The policy letting instances read the stack's secrets.
pub const SECRETS_POLICY: &str = "photoscale-secrets";

/// The role and profile as they exist.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IamFound {
    /// The role under this region's name, and its inline policies.
    pub role: Option<String>,
    pub role_policies: Vec<String>,
    /// The profile's ARN, and the roles it holds (none after a run that
    /// stopped between creating it and adding the role).
    pub instance_profile: Option<String>,
    pub profile_roles: Vec<String>,
    /// Managed policies attached to the role (only Session Manager's, with
    /// `--ssm-access`).
    pub attached_policies: Vec<String>,
    /// The role or profile under the name without the region, when it is
    /// this stack's in this region (its secrets policy names this region,
    /// or it has none): `up` removes it once no instance uses it.
    pub legacy_role: Option<String>,
}

impl IamFound {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.instance_profile.is_none() && self.legacy_role.is_none()
    }
}

/// The stack's role and profile in this region, and any under the old name.
pub async fn discover(clients: &Clients, stack: &StackName) -> Result<IamFound, AwsError> {
    let name = stack.role(&clients.region);
    let mut found = IamFound::default();
    if let Some(policies) = role_policies(clients, stack, &name).await? {
        found.role = Some(name.clone());
        found.role_policies = policies;
        found.attached_policies = attached_policies(clients, &name).await?;
    }
    if let Some((arn, roles)) = profile(clients, &name).await? {
        found.instance_profile = Some(arn);
        found.profile_roles = roles;
    }
    let legacy = stack.legacy_role();
    let role_here = match role_policies(clients, stack, &legacy).await {
        Ok(Some(_)) => secrets_policy_region(clients, &legacy)
            .await?
            .is_none_or(|r| r == clients.region),
        // Absent, or someone else's role that happens to have the name.
        Ok(None) | Err(AwsError::Invalid(_)) => false,
        Err(e) => return Err(e),
    };
    let profile_here = match profile(clients, &legacy).await? {
        Some((_, roles)) => roles.is_empty() || (roles.contains(&legacy) && role_here),
        None => false,
    };
    if role_here || profile_here {
        found.legacy_role = Some(legacy);
    }
    Ok(found)
}

/// The inline policies of role `name`, if it exists (and is the stack's).
async fn role_policies(
    clients: &Clients,
    stack: &StackName,
    name: &str,
) -> Result<Option<Vec<String>>, AwsError> {
    let role = match clients.iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) if code_of(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(api("GetRole", name)(e)),
    };
    let Some(role) = role else {
        return Ok(None);
    };
    if !has_stack_tag(role.tags().iter().map(|t| (t.key(), t.value())), stack) {
        return Err(not_ours("IAM role", name, stack));
    }
    let policies = clients
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(api("ListRolePolicies", name))?;
    Ok(Some(policies.policy_names().to_vec()))
}

/// The ARNs of the managed policies attached to role `name`.
async fn attached_policies(clients: &Clients, name: &str) -> Result<Vec<String>, AwsError> {
    match clients
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect()),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Ok(Vec::new()),
        Err(e) => Err(api("ListAttachedRolePolicies", name)(e)),
    }
}

/// Session Manager's permissions for an instance, as AWS maintains them.
pub fn ssm_policy_arn(region: &str) -> String {
    format!("arn:{}:iam::aws:policy/{SSM_POLICY}", partition(region))
}

/// The managed policy `--ssm-access` attaches.
pub const SSM_POLICY: &str = "AmazonSSMManagedInstanceCore";

/// Profile `name`'s ARN and the roles in it, if it exists.
async fn profile(clients: &Clients, name: &str) -> Result<Option<(String, Vec<String>)>, AwsError> {
    match clients
        .iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.instance_profile.map(|p| {
            let roles = p.roles().iter().map(|r| r.role_name().to_owned()).collect();
            (p.arn, roles)
        })),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(api("GetInstanceProfile", name)(e)),
    }
}

/// The region whose secrets the role's secrets policy lets it read.
async fn secrets_policy_region(clients: &Clients, role: &str) -> Result<Option<String>, AwsError> {
    let document = match clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(SECRETS_POLICY)
        .send()
        .await
    {
        Ok(out) => out.policy_document,
        Err(e) if code_of(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(api("GetRolePolicy", format!("{role}/{SECRETS_POLICY}"))(e)),
    };
    // IAM returns the document URL-encoded.
    let document = percent_encoding::percent_decode_str(&document).decode_utf8_lossy();
    Ok(region_of_parameter_arn(&document))
}

/// `eu-west-1` from a policy naming `arn:aws:ssm:eu-west-1:123:parameter/...`.
fn region_of_parameter_arn(document: &str) -> Option<String> {
    let after = &document[document.find(":ssm:")? + ":ssm:".len()..];
    Some(after[..after.find(':')?].to_owned())
}

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
    objects_policy(region, bucket, "")
}

/// Put, get and delete the objects under `key_prefix` of one bucket (and
/// list the bucket, as HeadBucket needs).
pub fn objects_policy(region: &str, bucket: &str, key_prefix: &str) -> String {
    let partition = partition(region);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": format!("arn:{partition}:s3:::{bucket}/{key_prefix}*")
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

/// The role with exactly `policies` (name, document) inline, its profile;
/// returns the profile's ARN.
pub async fn ensure(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    found: &IamFound,
    policies: &[(&'static str, String)],
    ssm_access: bool,
) -> Result<String, AwsError> {
    let name = stack.role(&clients.region);
    if found.role.is_none() {
        clients
            .iam
            .create_role()
            .role_name(&name)
            .description(format!(
                "photoscale {stack} in {}: the app instances",
                clients.region
            ))
            .assume_role_policy_document(trust_policy())
            .set_tags(Some(iam_tags(stack, level)))
            .send()
            .await
            .map_err(api("CreateRole", &name))?;
    }
    for (policy, document) in policies {
        put_policy(clients, &name, policy, document.clone()).await?;
    }
    for old in &found.role_policies {
        if !policies.iter().any(|(p, _)| p == old) {
            delete_policy(clients, &name, old).await?;
        }
    }
    let ssm = ssm_policy_arn(&clients.region);
    let attached = found.attached_policies.contains(&ssm);
    if ssm_access && !attached {
        clients
            .iam
            .attach_role_policy()
            .role_name(&name)
            .policy_arn(&ssm)
            .send()
            .await
            .map_err(api("AttachRolePolicy", format!("{name}/{SSM_POLICY}")))?;
    } else if !ssm_access && attached {
        detach_policy(clients, &name, &ssm).await?;
    }
    let arn = match &found.instance_profile {
        Some(arn) => arn.clone(),
        None => clients
            .iam
            .create_instance_profile()
            .instance_profile_name(&name)
            .set_tags(Some(iam_tags(stack, level)))
            .send()
            .await
            .map_err(api("CreateInstanceProfile", &name))?
            .instance_profile
            .map(|p| p.arn)
            .unwrap_or_default(),
    };
    // A profile made by a run that stopped before adding the role (or
    // holding another role) would boot instances without credentials.
    if found.instance_profile.is_none() || !found.profile_roles.contains(&name) {
        for other in found.profile_roles.iter().filter(|r| **r != name) {
            remove_role(clients, &name, other).await?;
        }
        clients
            .iam
            .add_role_to_instance_profile()
            .instance_profile_name(&name)
            .role_name(&name)
            .send()
            .await
            .map_err(api("AddRoleToInstanceProfile", &name))?;
    }
    Ok(arn)
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

/// This region's role and profile, and the ones under the old name.
pub async fn delete(
    clients: &Clients,
    stack: &StackName,
    found: &IamFound,
) -> Result<(), AwsError> {
    if found.role.is_some() || found.instance_profile.is_some() {
        let name = stack.role(&clients.region);
        for policy in &found.attached_policies {
            detach_policy(clients, &name, policy).await?;
        }
        delete_named(clients, &name, &found.role_policies).await?;
    }
    delete_legacy(clients, stack, found).await
}

/// The role and profile under the name without the region, once no
/// instance uses them (`up` calls this after the fleet has moved).
pub async fn delete_legacy(
    clients: &Clients,
    stack: &StackName,
    found: &IamFound,
) -> Result<(), AwsError> {
    if found.legacy_role.is_none() {
        return Ok(());
    }
    let legacy = stack.legacy_role();
    let policies = match clients
        .iam
        .list_role_policies()
        .role_name(&legacy)
        .send()
        .await
    {
        Ok(out) => out.policy_names().to_vec(),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Vec::new(),
        Err(e) => return Err(api("ListRolePolicies", &legacy)(e)),
    };
    delete_named(clients, &legacy, &policies).await
}

/// Profile first (it holds the role), then the role's policies, then the
/// role; each step accepts that its part is already gone.
async fn delete_named(clients: &Clients, name: &str, policies: &[String]) -> Result<(), AwsError> {
    remove_role(clients, name, name).await?;
    match clients
        .iam
        .delete_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Err(e) if code_of(&e) != Some("NoSuchEntity") => {
            return Err(api("DeleteInstanceProfile", name)(e))
        }
        _ => {}
    }
    for policy in policies {
        delete_policy(clients, name, policy).await?;
    }
    match clients.iam.delete_role().role_name(name).send().await {
        Err(e) if code_of(&e) != Some("NoSuchEntity") => Err(api("DeleteRole", name)(e)),
        _ => Ok(()),
    }
}

async fn detach_policy(clients: &Clients, role: &str, arn: &str) -> Result<(), AwsError> {
    match clients
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
    {
        Err(e) if code_of(&e) != Some("NoSuchEntity") => {
            Err(api("DetachRolePolicy", format!("{role}/{arn}"))(e))
        }
        _ => Ok(()),
    }
}

async fn remove_role(clients: &Clients, profile: &str, role: &str) -> Result<(), AwsError> {
    match clients
        .iam
        .remove_role_from_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
    {
        Err(e) if code_of(&e) != Some("NoSuchEntity") => {
            Err(api("RemoveRoleFromInstanceProfile", profile)(e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_a_secrets_policy_names() {
        let document = r#"{"Statement":[{"Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/photoscale/demo/secrets"}]}"#;
        assert_eq!(
            region_of_parameter_arn(document).as_deref(),
            Some("us-east-1")
        );
        assert_eq!(region_of_parameter_arn("{}"), None);
    }
}
