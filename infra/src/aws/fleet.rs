//! The app instances: standalone below level 3, launched by an Auto Scaling
//! group from a launch template at level 3+ (the alarms that scale the group
//! are in alarms.rs).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest,
    InstanceType, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateTagSpecificationRequest,
    RequestLaunchTemplateData, ResourceType, Tag as Ec2Tag, TagSpecification,
};

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::inventory::{AutoScalingGroup, Inventory, LaunchTemplate};
use super::names::{StackName, CONFIG_TAG};
use super::network::ec2_tags;
use super::{iam_propagation, wait, AwsOptions, Os};
use crate::progress::Step;
use crate::spec::{Fleet, Scaling};

/// What every app instance is made from.
pub struct Blueprint {
    pub image_id: String,
    pub instance_type: String,
    pub profile_arn: String,
    pub security_group: String,
    pub subnet_ids: Vec<String>,
    /// Base64 of the user-data script.
    pub user_data: String,
    /// The configuration fingerprint (tag and launch template version description).
    pub config: String,
    pub level: u8,
}

impl Blueprint {
    fn instance_tags(&self, stack: &StackName) -> Vec<Ec2Tag> {
        let mut tags = ec2_tags(stack, self.level, &stack.instance());
        tags.push(
            Ec2Tag::builder()
                .key(CONFIG_TAG)
                .value(&self.config)
                .build(),
        );
        tags
    }
}

/// The AMI to use: `--ami`, else the newest Amazon Linux 2023 or Ubuntu 24.04.
pub async fn image(clients: &Clients, options: &AwsOptions) -> Result<String, AwsError> {
    if let Some(ami) = &options.ami {
        return Ok(ami.clone());
    }
    let (owner, pattern) = match options.os {
        Os::AmazonLinux => ("137112412989", "al2023-ami-2023.*-x86_64"),
        Os::Ubuntu => (
            "099720109477",
            "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-amd64-server-*",
        ),
    };
    let out = clients
        .ec2
        .describe_images()
        .owners(owner)
        .filters(Filter::builder().name("name").values(pattern).build())
        .filters(
            Filter::builder()
                .name("architecture")
                .values("x86_64")
                .build(),
        )
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .map_err(api("DescribeImages", pattern))?;
    let newest = out
        .images()
        .iter()
        .filter_map(|i| {
            Some((
                i.creation_date().unwrap_or(""),
                i.name().unwrap_or(""),
                i.image_id()?,
            ))
        })
        .max();
    match newest {
        Some((_, _, id)) => Ok(id.to_owned()),
        None => Err(AwsError::Invalid(format!(
            "no image named {pattern} from owner {owner} in {}\n  fix: pass --ami with an x86_64 AMI id of this region",
            clients.region
        ))),
    }
}

/// Launches `count` standalone instances; returns their ids once running.
pub async fn launch(
    clients: &Clients,
    options: &AwsOptions,
    blueprint: &Blueprint,
    count: usize,
    step: &Step,
) -> Result<Vec<String>, AwsError> {
    launch_from(clients, options, blueprint, 0..count, step).await
}

/// Launches instances number `range` of the fleet (which sets their zones).
pub async fn launch_from(
    clients: &Clients,
    options: &AwsOptions,
    blueprint: &Blueprint,
    range: std::ops::Range<usize>,
    step: &Step,
) -> Result<Vec<String>, AwsError> {
    let stack = &options.stack;
    let mut ids = Vec::new();
    for n in range {
        // Spread over the zones; an instance profile made seconds ago may not
        // be visible to EC2 yet, so that one error is retried for a while.
        let subnet = &blueprint.subnet_ids[n % blueprint.subnet_ids.len()];
        let what = "the new instance profile to reach EC2";
        // One idempotency token per instance, kept across the retries below:
        // a retry of a launch that did happen returns that instance instead
        // of starting (and billing) a second one.
        let token = launch_token();
        let id = wait::until(
            step,
            what,
            options.timeouts.instances,
            options.timeouts.poll,
            || async {
                let tags = TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .set_tags(Some(blueprint.instance_tags(stack)))
                    .build();
                let result = clients
                    .ec2
                    .run_instances()
                    .image_id(&blueprint.image_id)
                    .instance_type(InstanceType::from(blueprint.instance_type.as_str()))
                    .min_count(1)
                    .max_count(1)
                    .subnet_id(subnet)
                    .security_group_ids(&blueprint.security_group)
                    .iam_instance_profile(
                        IamInstanceProfileSpecification::builder()
                            .arn(&blueprint.profile_arn)
                            .build(),
                    )
                    .metadata_options(
                        InstanceMetadataOptionsRequest::builder()
                            .http_tokens(HttpTokensState::Required)
                            .build(),
                    )
                    .user_data(&blueprint.user_data)
                    .tag_specifications(tags)
                    .client_token(&token)
                    .send()
                    .await;
                match result {
                    Ok(out) => Ok(out
                        .instances()
                        .first()
                        .and_then(|i| i.instance_id())
                        .map(str::to_owned)),
                    Err(e) => match api("RunInstances", stack.instance())(e) {
                        e if iam_propagation::is_unseen_profile(&e) => Ok(None),
                        e => Err(e),
                    },
                }
            },
        )
        .await?;
        ids.push(id);
    }
    wait_running(clients, options, &ids, step).await?;
    Ok(ids)
}

/// A RunInstances client token: 128 random bits (EC2 allows 64 characters).
fn launch_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

async fn instance_states(
    clients: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = clients
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(api("DescribeInstances", ids.join(", ")))?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter_map(|i| {
            Some((
                i.instance_id()?.to_owned(),
                i.state()?.name()?.as_str().to_owned(),
            ))
        })
        .collect())
}

async fn wait_running(
    clients: &Clients,
    options: &AwsOptions,
    ids: &[String],
    step: &Step,
) -> Result<(), AwsError> {
    let what = format!("{} to be running", ids.join(", "));
    wait::until(
        step,
        &what,
        options.timeouts.instances,
        options.timeouts.poll,
        || async {
            let states = instance_states(clients, ids).await?;
            Ok(ids
                .iter()
                .all(|id| states.get(id).map(String::as_str) == Some("running"))
                .then_some(()))
        },
    )
    .await
}

/// Terminates `ids` and waits until they are gone.
pub async fn terminate(
    clients: &Clients,
    options: &AwsOptions,
    ids: &[String],
    step: &Step,
) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    clients
        .ec2
        .terminate_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(api("TerminateInstances", ids.join(", ")))?;
    let what = format!("{} to terminate", ids.join(", "));
    wait::until(
        step,
        &what,
        options.timeouts.instances,
        options.timeouts.poll,
        || async {
            let states = instance_states(clients, ids).await?;
            Ok(states.values().all(|s| s == "terminated").then_some(()))
        },
    )
    .await
}

/// The launch template of the blueprint's configuration, created when missing.
pub async fn ensure_launch_template(
    clients: &Clients,
    stack: &StackName,
    blueprint: &Blueprint,
    found: &[LaunchTemplate],
) -> Result<String, AwsError> {
    if let Some(t) = found
        .iter()
        .find(|t| t.config.as_deref() == Some(&blueprint.config))
    {
        return Ok(t.id.clone());
    }
    let name = stack.launch_template(&blueprint.config);
    let data = RequestLaunchTemplateData::builder()
        .image_id(&blueprint.image_id)
        .instance_type(InstanceType::from(blueprint.instance_type.as_str()))
        .iam_instance_profile(
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .arn(&blueprint.profile_arn)
                .build(),
        )
        .security_group_ids(&blueprint.security_group)
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .build(),
        )
        .user_data(&blueprint.user_data)
        .tag_specifications(
            LaunchTemplateTagSpecificationRequest::builder()
                .resource_type(ResourceType::Instance)
                .set_tags(Some(blueprint.instance_tags(stack)))
                .build(),
        )
        .build();
    let mut tags = ec2_tags(stack, blueprint.level, &name);
    tags.push(
        Ec2Tag::builder()
            .key(CONFIG_TAG)
            .value(&blueprint.config)
            .build(),
    );
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::LaunchTemplate)
        .set_tags(Some(tags))
        .build();
    let out = clients
        .ec2
        .create_launch_template()
        .launch_template_name(&name)
        .version_description(&blueprint.config)
        .launch_template_data(data)
        .tag_specifications(tags)
        .send()
        .await
        .map_err(api("CreateLaunchTemplate", &name))?;
    Ok(out
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap_or_default()
        .to_owned())
}

/// Deletes launch templates (those of an old configuration, or all).
pub async fn delete_templates(
    clients: &Clients,
    templates: &[&LaunchTemplate],
) -> Result<(), AwsError> {
    for template in templates {
        match clients
            .ec2
            .delete_launch_template()
            .launch_template_id(&template.id)
            .send()
            .await
        {
            Err(e) if !code_of(&e).is_some_and(|c| c.contains("NotFound")) => {
                return Err(api("DeleteLaunchTemplate", &template.name)(e))
            }
            _ => {}
        }
    }
    Ok(())
}

fn asg_tags(stack: &StackName, blueprint: &Blueprint) -> Vec<aws_sdk_autoscaling::types::Tag> {
    let mut tags = super::names::tags(stack, blueprint.level);
    tags.push((CONFIG_TAG.to_owned(), blueprint.config.clone()));
    tags.push(("Name".to_owned(), stack.instance()));
    tags.into_iter()
        .map(|(k, v)| {
            aws_sdk_autoscaling::types::Tag::builder()
                .resource_id(stack.main())
                .resource_type("auto-scaling-group")
                .key(k)
                .value(v)
                .propagate_at_launch(true)
                .build()
        })
        .collect()
}

/// What `ensure_group` needs besides the blueprint.
pub struct GroupSettings<'a> {
    pub fleet: Fleet,
    pub scaling: &'a Scaling,
    pub template_id: &'a str,
    pub target_group: &'a str,
}

/// The Auto Scaling group: created, or its sizes, health check and template set again.
pub async fn ensure_group(
    clients: &Clients,
    options: &AwsOptions,
    blueprint: &Blueprint,
    settings: &GroupSettings<'_>,
    found: Option<&AutoScalingGroup>,
) -> Result<(), AwsError> {
    let stack = &options.stack;
    let name = stack.main();
    let template = aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
        .launch_template_id(settings.template_id)
        .version("$Latest")
        .build();
    let fleet = settings.fleet;
    let (min, max) = (fleet.min as i32, fleet.max as i32);
    let grace = settings.scaling.health_check_grace_period_s as i32;
    let cooldown = settings.scaling.cooldown_s as i32;
    match found {
        None => {
            iam_propagation::retry(options.timeouts.instances, || async {
                clients
                    .autoscaling
                    .create_auto_scaling_group()
                    .auto_scaling_group_name(&name)
                    .launch_template(template.clone())
                    .min_size(min)
                    .max_size(max)
                    .desired_capacity(fleet.desired as i32)
                    .vpc_zone_identifier(blueprint.subnet_ids.join(","))
                    .target_group_arns(settings.target_group)
                    .health_check_type("ELB")
                    .health_check_grace_period(grace)
                    .default_cooldown(cooldown)
                    .set_tags(Some(asg_tags(stack, blueprint)))
                    .send()
                    .await
                    .map_err(api("CreateAutoScalingGroup", &name))
            })
            .await?;
        }
        Some(group) => {
            // Keep what the alarms scaled to, unless --desired says otherwise.
            let desired = if options.desired_given {
                fleet.desired as i32
            } else {
                group.desired.clamp(min, max)
            };
            iam_propagation::retry(options.timeouts.instances, || async {
                clients
                    .autoscaling
                    .update_auto_scaling_group()
                    .auto_scaling_group_name(&name)
                    .launch_template(template.clone())
                    .min_size(min)
                    .max_size(max)
                    .desired_capacity(desired)
                    // The stack's subnets as chosen today (zones that offer
                    // the instance type), also for groups made before.
                    .vpc_zone_identifier(blueprint.subnet_ids.join(","))
                    .health_check_type("ELB")
                    .health_check_grace_period(grace)
                    .default_cooldown(cooldown)
                    .send()
                    .await
                    .map_err(api("UpdateAutoScalingGroup", &name))
            })
            .await?;
            clients
                .autoscaling
                .create_or_update_tags()
                .set_tags(Some(asg_tags(stack, blueprint)))
                .send()
                .await
                .map_err(api("CreateOrUpdateTags", &name))?;
        }
    }
    Ok(())
}

/// Replaces the group's instances whose configuration is stale, one at a
/// time: detached (which takes it out of the load balancer and makes the
/// group launch a replacement), then terminated once the replacement passes
/// the health check.
pub async fn roll_group(
    clients: &Clients,
    options: &AwsOptions,
    stale: &[String],
    target_group: &str,
    step: &Step,
) -> Result<(), AwsError> {
    let group = options.stack.main();
    for id in stale {
        step.waiting(&format!("replacing {id}"));
        clients
            .autoscaling
            .detach_instances()
            .auto_scaling_group_name(&group)
            .instance_ids(id)
            .should_decrement_desired_capacity(false)
            .send()
            .await
            .map_err(api("DetachInstances", id))?;
        wait_group_healthy(clients, options, target_group, stale, step).await?;
        terminate(clients, options, std::slice::from_ref(id), step).await?;
    }
    Ok(())
}

/// Waits until the group runs its desired number of instances and those
/// not in `stale` pass the health check.
pub async fn wait_group_healthy(
    clients: &Clients,
    options: &AwsOptions,
    target_group: &str,
    stale: &[String],
    step: &Step,
) -> Result<(), AwsError> {
    let what = "the Auto Scaling group's instances to be running";
    let fresh = wait::until(
        step,
        what,
        options.timeouts.instances,
        options.timeouts.poll,
        || async {
            let now = super::discovery::discover(clients, &options.stack).await?;
            let desired = now.auto_scaling_group.as_ref().map_or(0, |g| g.desired) as usize;
            let running: Vec<String> = now
                .group_instances
                .iter()
                .filter(|i| i.state == "running")
                .map(|i| i.id.clone())
                .collect();
            Ok((running.len() >= desired).then(|| {
                running
                    .into_iter()
                    .filter(|id| !stale.contains(id))
                    .collect::<Vec<_>>()
            }))
        },
    )
    .await?;
    super::load_balancer::wait_healthy(clients, options, target_group, &fresh, step).await
}

/// Alarms, the group (and its policies and instances), the launch template
/// and our own topic.
pub async fn delete_scaling(
    clients: &Clients,
    options: &AwsOptions,
    found: &Inventory,
    step: &Step,
) -> Result<(), AwsError> {
    if !found.alarms.is_empty() {
        clients
            .cloudwatch
            .delete_alarms()
            .set_alarm_names(Some(found.alarms.clone()))
            .send()
            .await
            .map_err(api("DeleteAlarms", found.alarms.join(", ")))?;
    }
    let stack = &options.stack;
    if let Some(group) = &found.auto_scaling_group {
        match clients
            .autoscaling
            .delete_auto_scaling_group()
            .auto_scaling_group_name(&group.name)
            .force_delete(true)
            .send()
            .await
        {
            Err(e) if !format!("{e:?}").contains("not found") => {
                return Err(api("DeleteAutoScalingGroup", &group.name)(e))
            }
            _ => {}
        }
        let what = format!(
            "Auto Scaling group {} and its instances to be deleted",
            group.name
        );
        wait::until(
            step,
            &what,
            options.timeouts.deletion,
            options.timeouts.poll,
            || async {
                let now = super::discovery::discover(clients, stack).await?;
                Ok(
                    (now.auto_scaling_group.is_none() && now.group_instances.is_empty())
                        .then_some(()),
                )
            },
        )
        .await?;
    }
    delete_templates(clients, &found.launch_templates.iter().collect::<Vec<_>>()).await?;
    super::alarms::delete_own_topic(clients, options, found).await
}
