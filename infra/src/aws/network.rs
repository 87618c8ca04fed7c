//! The network: the default VPC (or a named one), its subnets, and security
//! groups that let in only what each tier needs: the world into the load
//! balancer, the load balancer into the app, the app into MySQL and the cache.

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};

use super::clients::Clients;
use super::error::{api, AwsError};
use super::names::StackName;
use super::subnets;
use super::{APP_PORT, DIRECT_PORT};

pub struct Network {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
}

/// The VPC `vpc` (or the region's default one) and the subnets the stack
/// uses in it (see `subnets::choose`).
pub async fn find(
    clients: &Clients,
    vpc: Option<&str>,
    instance_type: &str,
) -> Result<Network, AwsError> {
    let mut request = clients.ec2.describe_vpcs();
    request = match vpc {
        Some(id) => request.vpc_ids(id),
        None => request.filters(Filter::builder().name("isDefault").values("true").build()),
    };
    let out = request
        .send()
        .await
        .map_err(api("DescribeVpcs", vpc.unwrap_or("the default VPC")))?;
    let Some(vpc_id) = out
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .map(str::to_owned)
    else {
        return Err(AwsError::Invalid(format!(
            "region {} has no default VPC\n  fix: pass --vpc with the id of a VPC that has public subnets in two availability zones",
            clients.region
        )));
    };
    let (facts, offered) = subnets::survey(clients, &vpc_id, vpc.is_none(), instance_type).await?;
    let subnet_ids =
        subnets::choose(&vpc_id, &facts, &offered, instance_type).map_err(AwsError::Invalid)?;
    Ok(Network { vpc_id, subnet_ids })
}

/// Who may connect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Anywhere,
    Group(String),
}

/// One inbound TCP rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub port: u16,
    pub from: Source,
}

/// The rules of group `kind`, given the ids of the groups it trusts.
pub fn rules(
    kind: &str,
    https: bool,
    cache_port: u16,
    lb: Option<&str>,
    app: Option<&str>,
) -> Vec<Rule> {
    let from_group = |id: Option<&str>| Source::Group(id.unwrap_or_default().to_owned());
    match kind {
        "lb" => {
            let mut rules = vec![Rule {
                port: 80,
                from: Source::Anywhere,
            }];
            if https {
                rules.push(Rule {
                    port: 443,
                    from: Source::Anywhere,
                });
            }
            rules
        }
        // Level 0 has no load balancer: the instance itself faces the world.
        "app" if lb.is_none() => vec![Rule {
            port: DIRECT_PORT,
            from: Source::Anywhere,
        }],
        "app" => vec![Rule {
            port: APP_PORT,
            from: from_group(lb),
        }],
        "db" => vec![Rule {
            port: 3306,
            from: from_group(app),
        }],
        "cache" => vec![Rule {
            port: cache_port,
            from: from_group(app),
        }],
        _ => Vec::new(),
    }
}

/// The group `kind` of the stack, created when missing, with exactly `wanted`
/// as its inbound rules.
pub async fn ensure_group(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    network: &Network,
    kind: &str,
    existing: Option<&String>,
    wanted: &[Rule],
) -> Result<String, AwsError> {
    let name = stack.security_group(kind);
    let id = match existing {
        Some(id) => id.clone(),
        None => {
            let tags = TagSpecification::builder()
                .resource_type(ResourceType::SecurityGroup)
                .set_tags(Some(ec2_tags(stack, level, &name)))
                .build();
            clients
                .ec2
                .create_security_group()
                .group_name(&name)
                .description(format!("photoscale {stack}: {kind} tier"))
                .vpc_id(&network.vpc_id)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(api("CreateSecurityGroup", &name))?
                .group_id()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let current = current_rules(clients, &id).await?;
    let missing: Vec<&Rule> = wanted.iter().filter(|r| !current.contains(r)).collect();
    let extra: Vec<&Rule> = current.iter().filter(|r| !wanted.contains(r)).collect();
    if !missing.is_empty() {
        clients
            .ec2
            .authorize_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(missing.into_iter().map(permission).collect()))
            .send()
            .await
            .map_err(api("AuthorizeSecurityGroupIngress", &name))?;
    }
    if !extra.is_empty() {
        clients
            .ec2
            .revoke_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(extra.into_iter().map(permission).collect()))
            .send()
            .await
            .map_err(api("RevokeSecurityGroupIngress", &name))?;
    }
    Ok(id)
}

/// The inbound rules group `id` has now.
pub async fn current_rules(clients: &Clients, id: &str) -> Result<Vec<Rule>, AwsError> {
    let out = clients
        .ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .map_err(api("DescribeSecurityGroups", id))?;
    let mut rules = Vec::new();
    for p in out
        .security_groups()
        .iter()
        .flat_map(|g| g.ip_permissions())
    {
        let Some(port) = p.from_port().and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        rules.extend(
            p.ip_ranges()
                .iter()
                .filter(|r| r.cidr_ip() == Some("0.0.0.0/0"))
                .map(|_| Rule {
                    port,
                    from: Source::Anywhere,
                }),
        );
        rules.extend(p.user_id_group_pairs().iter().filter_map(|g| {
            Some(Rule {
                port,
                from: Source::Group(g.group_id()?.to_owned()),
            })
        }));
    }
    rules.sort();
    Ok(rules)
}

fn permission(rule: &Rule) -> IpPermission {
    let p = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(i32::from(rule.port))
        .to_port(i32::from(rule.port));
    match &rule.from {
        Source::Anywhere => p.ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()),
        Source::Group(id) => p.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()),
    }
    .build()
}

/// The stack's tags in EC2's shape, with a `Name`.
pub fn ec2_tags(stack: &StackName, level: u8, name: &str) -> Vec<Tag> {
    let mut tags: Vec<Tag> = super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    tags.push(Tag::builder().key("Name").value(name).build());
    tags
}

/// Deletes the groups `(kind, id)` in the order trust allows (cache and db
/// trust app, app trusts lb), each retried until nothing uses it any more.
pub async fn delete_groups(
    clients: &Clients,
    options: &super::AwsOptions,
    mut groups: Vec<(&str, &str)>,
    step: &crate::progress::Step,
) -> Result<(), AwsError> {
    let rank = |kind: &str| ["cache", "db", "app", "lb"].iter().position(|k| *k == kind);
    groups.sort_by_key(|(kind, _)| rank(kind));
    for (kind, id) in groups {
        let what = format!(
            "{} to be unused (instances and load balancers release it)",
            options.stack.security_group(kind)
        );
        super::wait::until(
            step,
            &what,
            options.timeouts.deletion,
            options.timeouts.poll,
            || async { Ok(delete_group(clients, id).await?.then_some(())) },
        )
        .await?;
    }
    Ok(())
}

/// Deletes group `id`: false while AWS refuses because something still uses
/// it (an instance or load balancer being deleted).
async fn delete_group(clients: &Clients, id: &str) -> Result<bool, AwsError> {
    match clients
        .ec2
        .delete_security_group()
        .group_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if super::error::code_of(&e) == Some("DependencyViolation") => Ok(false),
        Err(e) if super::error::code_of(&e) == Some("InvalidGroup.NotFound") => Ok(true),
        Err(e) => Err(api("DeleteSecurityGroup", id)(e)),
    }
}
