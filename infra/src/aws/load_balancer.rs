//! The Application Load Balancer (level 1+): internet-facing in the VPC's
//! subnets, a target group that checks each instance's `/healthz`, and a
//! listener on 80 (and 443 with a certificate) forwarding to it.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Tag, TargetDescription,
    TargetHealthStateEnum, TargetTypeEnum,
};

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::inventory::{Arn, Inventory, LoadBalancer};
use super::names::StackName;
use super::network::Network;
use super::{wait, AwsOptions, APP_PORT};
use crate::progress::Step;
use crate::spec::HealthCheck;

fn elb_tags(stack: &StackName, level: u8) -> Vec<Tag> {
    super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub struct Balancer {
    pub load_balancer: LoadBalancer,
    pub target_group: String,
}

/// Load balancer, target group (health check set again each time) and listeners.
#[allow(clippy::too_many_arguments)]
pub async fn ensure(
    clients: &Clients,
    options: &AwsOptions,
    level: u8,
    network: &Network,
    security_group: &str,
    health: &HealthCheck,
    found: &Inventory,
) -> Result<Balancer, AwsError> {
    let stack = &options.stack;
    let name = stack.main();
    let load_balancer = match &found.load_balancer {
        Some(lb) => lb.clone(),
        None => {
            let out = clients
                .elb
                .create_load_balancer()
                .name(&name)
                .r#type(LoadBalancerTypeEnum::Application)
                .scheme(LoadBalancerSchemeEnum::InternetFacing)
                .set_subnets(Some(network.subnet_ids.clone()))
                .security_groups(security_group)
                .set_tags(Some(elb_tags(stack, level)))
                .send()
                .await
                .map_err(api("CreateLoadBalancer", &name))?;
            let lb = out.load_balancers().first();
            LoadBalancer {
                arn: lb
                    .and_then(|l| l.load_balancer_arn())
                    .unwrap_or_default()
                    .to_owned(),
                dns_name: lb.and_then(|l| l.dns_name()).unwrap_or_default().to_owned(),
            }
        }
    };
    let target_group = ensure_target_group(
        clients,
        stack,
        level,
        network,
        health,
        found.target_group.as_ref(),
    )
    .await?;
    set_drain_time(clients, &target_group).await?;
    ensure_listeners(clients, options, &load_balancer.arn, &target_group).await?;
    Ok(Balancer {
        load_balancer,
        target_group,
    })
}

/// How long a deregistered instance may finish the requests it has (new
/// ones go elsewhere). AWS's default is 300 s; `up` waits this out before it
/// terminates an instance, so a shorter time makes level changes quicker.
pub const DRAIN_S: u64 = 30;

async fn set_drain_time(clients: &Clients, target_group: &str) -> Result<(), AwsError> {
    clients
        .elb
        .modify_target_group_attributes()
        .target_group_arn(target_group)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value(DRAIN_S.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(api("ModifyTargetGroupAttributes", target_group))?;
    Ok(())
}

/// Health check in AWS's units: whole seconds, timeout below the interval.
fn health_seconds(health: &HealthCheck) -> (i32, i32) {
    let interval = (health.interval_ms / 1000).clamp(5, 300) as i32;
    (interval, (interval - 1).min(5))
}

async fn ensure_target_group(
    clients: &Clients,
    stack: &StackName,
    level: u8,
    network: &Network,
    health: &HealthCheck,
    found: Option<&Arn>,
) -> Result<String, AwsError> {
    let name = stack.main();
    let (interval, timeout) = health_seconds(health);
    let matcher = Matcher::builder().http_code("200").build();
    if let Some(Arn(arn)) = found {
        clients
            .elb
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&health.path)
            .health_check_interval_seconds(interval)
            .health_check_timeout_seconds(timeout)
            .healthy_threshold_count(health.rise as i32)
            .unhealthy_threshold_count(health.fall as i32)
            .matcher(matcher)
            .send()
            .await
            .map_err(api("ModifyTargetGroup", &name))?;
        return Ok(arn.clone());
    }
    let out = clients
        .elb
        .create_target_group()
        .name(&name)
        .protocol(ProtocolEnum::Http)
        .port(i32::from(APP_PORT))
        .vpc_id(&network.vpc_id)
        .target_type(TargetTypeEnum::Instance)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(&health.path)
        .health_check_interval_seconds(interval)
        .health_check_timeout_seconds(timeout)
        .healthy_threshold_count(health.rise as i32)
        .unhealthy_threshold_count(health.fall as i32)
        .matcher(matcher)
        .set_tags(Some(elb_tags(stack, level)))
        .send()
        .await
        .map_err(api("CreateTargetGroup", &name))?;
    Ok(out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .unwrap_or_default()
        .to_owned())
}

async fn ensure_listeners(
    clients: &Clients,
    options: &AwsOptions,
    lb_arn: &str,
    target_group: &str,
) -> Result<(), AwsError> {
    let out = clients
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(api("DescribeListeners", lb_arn))?;
    let ports: Vec<i32> = out.listeners().iter().filter_map(|l| l.port()).collect();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build();
    // With a certificate, port 80 only redirects to HTTPS: the session
    // cookie is `Secure`, so a login over plain HTTP would not hold.
    let on_80 = match options.certificate_arn {
        Some(_) => redirect_to_https(),
        None => forward.clone(),
    };
    match out.listeners().iter().find(|l| l.port() == Some(80)) {
        None => {
            clients
                .elb
                .create_listener()
                .load_balancer_arn(lb_arn)
                .protocol(ProtocolEnum::Http)
                .port(80)
                .default_actions(on_80)
                .send()
                .await
                .map_err(api("CreateListener", format!("{lb_arn} port 80")))?;
        }
        Some(listener) => {
            // A certificate added or removed since: the action follows.
            let arn = listener.listener_arn().unwrap_or_default();
            clients
                .elb
                .modify_listener()
                .listener_arn(arn)
                .default_actions(on_80)
                .send()
                .await
                .map_err(api("ModifyListener", arn))?;
        }
    }
    match &options.certificate_arn {
        Some(certificate) if !ports.contains(&443) => {
            clients
                .elb
                .create_listener()
                .load_balancer_arn(lb_arn)
                .protocol(ProtocolEnum::Https)
                .port(443)
                .certificates(Certificate::builder().certificate_arn(certificate).build())
                .default_actions(forward)
                .send()
                .await
                .map_err(api("CreateListener", format!("{lb_arn} port 443")))?;
        }
        None if ports.contains(&443) => {
            for listener in out.listeners().iter().filter(|l| l.port() == Some(443)) {
                let arn = listener.listener_arn().unwrap_or_default();
                clients
                    .elb
                    .delete_listener()
                    .listener_arn(arn)
                    .send()
                    .await
                    .map_err(api("DeleteListener", arn))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A permanent redirect of any plain-HTTP request to the same URL on HTTPS.
fn redirect_to_https() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build()
}

/// Instances as targets on the app port.
fn targets(ids: &[String]) -> Vec<TargetDescription> {
    let target = |id| {
        TargetDescription::builder()
            .id(id)
            .port(i32::from(APP_PORT))
            .build()
    };
    ids.iter().map(target).collect()
}

pub async fn register(
    clients: &Clients,
    target_group: &str,
    ids: &[String],
) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    clients
        .elb
        .register_targets()
        .target_group_arn(target_group)
        .set_targets(Some(targets(ids)))
        .send()
        .await
        .map_err(api("RegisterTargets", target_group))?;
    Ok(())
}

async fn deregister(clients: &Clients, target_group: &str, ids: &[String]) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    match clients
        .elb
        .deregister_targets()
        .target_group_arn(target_group)
        .set_targets(Some(targets(ids)))
        .send()
        .await
    {
        Err(e) if code_of(&e) != Some("InvalidTarget") => {
            Err(api("DeregisterTargets", target_group)(e))
        }
        _ => Ok(()),
    }
}

/// Waits until every one of `ids` passes the target group's health check.
/// Takes `ids` out of the target group and waits until they have finished
/// their requests (no longer `draining`), so terminating them next cuts none.
pub async fn drain(
    clients: &Clients,
    options: &AwsOptions,
    target_group: &str,
    ids: &[String],
    step: &Step,
) -> Result<(), AwsError> {
    deregister(clients, target_group, ids).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let what = format!(
        "{} to finish their requests (at most {DRAIN_S} s)",
        ids.join(", ")
    );
    let limit = std::time::Duration::from_secs(DRAIN_S + 30);
    wait::until(step, &what, limit, options.timeouts.poll, || async {
        let states = target_states(clients, target_group).await?;
        let draining = ids
            .iter()
            .any(|id| states.get(id) == Some(&TargetHealthStateEnum::Draining));
        Ok((!draining).then_some(()))
    })
    .await
}

/// Each registered target's state in the target group, by instance id.
async fn target_states(
    clients: &Clients,
    target_group: &str,
) -> Result<std::collections::HashMap<String, TargetHealthStateEnum>, AwsError> {
    let out = clients
        .elb
        .describe_target_health()
        .target_group_arn(target_group)
        .send()
        .await
        .map_err(api("DescribeTargetHealth", target_group))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let id = d.target()?.id()?.to_owned();
            Some((id, d.target_health()?.state()?.clone()))
        })
        .collect())
}

pub async fn wait_healthy(
    clients: &Clients,
    options: &AwsOptions,
    target_group: &str,
    ids: &[String],
    step: &Step,
) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    let what = format!(
        "{} to pass the load balancer's health check",
        ids.join(", ")
    );
    wait::until(
        step,
        &what,
        options.timeouts.instances,
        options.timeouts.poll,
        || async {
            let states = target_states(clients, target_group).await?;
            let healthy = ids
                .iter()
                .all(|id| states.get(id) == Some(&TargetHealthStateEnum::Healthy));
            Ok(healthy.then_some(()))
        },
    )
    .await
}

/// Load balancer (its listeners go with it), then the target group.
pub async fn delete(
    clients: &Clients,
    options: &AwsOptions,
    found: &Inventory,
    step: &Step,
) -> Result<(), AwsError> {
    if let Some(lb) = &found.load_balancer {
        match clients
            .elb
            .delete_load_balancer()
            .load_balancer_arn(&lb.arn)
            .send()
            .await
        {
            Err(e) if code_of(&e) != Some("LoadBalancerNotFound") => {
                return Err(api("DeleteLoadBalancer", &lb.arn)(e))
            }
            _ => {}
        }
        let stack = &options.stack;
        let what = format!("load balancer {} to be deleted", stack.main());
        wait::until(
            step,
            &what,
            options.timeouts.deletion,
            options.timeouts.poll,
            || async {
                Ok(super::discovery::discover_load_balancer(clients, stack)
                    .await?
                    .is_none()
                    .then_some(()))
            },
        )
        .await?;
    }
    if let Some(Arn(arn)) = &found.target_group {
        // The target group is in use until the load balancer is really gone.
        let what = format!("target group {} to be released", options.stack.main());
        wait::until(
            step,
            &what,
            options.timeouts.deletion,
            options.timeouts.poll,
            || async {
                match clients
                    .elb
                    .delete_target_group()
                    .target_group_arn(arn)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Some(())),
                    Err(e) if code_of(&e) == Some("TargetGroupNotFound") => Ok(Some(())),
                    Err(e) if code_of(&e) == Some("ResourceInUse") => Ok(None),
                    Err(e) => Err(api("DeleteTargetGroup", arn)(e)),
                }
            },
        )
        .await?;
    }
    Ok(())
}
