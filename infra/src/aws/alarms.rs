//! Latency-triggered scaling on AWS: the two CloudWatch alarms on the
//! target group's response time, wired to simple scaling policies of the
//! Auto Scaling group, and the SNS topic they notify.

use super::clients::Clients;
use super::error::{api, AwsError};
use super::inventory::Inventory;
use super::AwsOptions;
use crate::spec::{Comparison, Scaling};

/// The simple scaling policies and the alarms that trigger them.
pub async fn ensure_alarms(
    clients: &Clients,
    options: &AwsOptions,
    level: u8,
    scaling: &Scaling,
    load_balancer_arn: &str,
    target_group_arn: &str,
    topic: Option<&str>,
) -> Result<(), AwsError> {
    let stack = &options.stack;
    let group = stack.main();
    for alarm in &scaling.alarms {
        let policy_name = policy_name(alarm.adjustment);
        let policy = clients
            .autoscaling
            .put_scaling_policy()
            .auto_scaling_group_name(&group)
            .policy_name(policy_name)
            .policy_type("SimpleScaling")
            .adjustment_type("ChangeInCapacity")
            .scaling_adjustment(alarm.adjustment)
            .cooldown(scaling.cooldown_s as i32)
            .send()
            .await
            .map_err(api("PutScalingPolicy", format!("{group}/{policy_name}")))?;
        let policy_arn = match policy.policy_arn().filter(|arn| !arn.is_empty()) {
            Some(arn) => arn.to_owned(),
            None => policy_arn(clients, &group, policy_name).await?,
        };
        let name = stack.alarm(&alarm.name);
        let comparison = match alarm.comparison {
            Comparison::GreaterThanThreshold => {
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold
            }
            Comparison::LessThanThreshold => {
                aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold
            }
        };
        let mut actions = vec![policy_arn];
        actions.extend(topic.map(str::to_owned));
        let tags = super::names::tags(stack, level).into_iter().map(|(k, v)| {
            aws_sdk_cloudwatch::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        });
        clients
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "photoscale {stack}: {} average response time, {policy_name}",
                alarm.comparison.describe()
            ))
            .namespace("AWS/ApplicationELB")
            .metric_name(&alarm.metric)
            .dimensions(dimension(
                "LoadBalancer",
                load_balancer_dimension(load_balancer_arn),
            ))
            .dimensions(dimension(
                "TargetGroup",
                target_group_dimension(target_group_arn),
            ))
            .statistic(aws_sdk_cloudwatch::types::Statistic::from(
                alarm.statistic.as_str(),
            ))
            .period(alarm.period_s as i32)
            .evaluation_periods(alarm.evaluation_periods as i32)
            .datapoints_to_alarm(alarm.datapoints_to_alarm as i32)
            // TargetResponseTime is in seconds.
            .threshold(alarm.threshold_ms as f64 / 1000.0)
            .comparison_operator(comparison)
            .treat_missing_data(treat_missing_data(alarm.comparison))
            .set_alarm_actions(Some(actions))
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .map_err(api("PutMetricAlarm", &name))?;
    }
    Ok(())
}

/// What an alarm makes of a period without data points. An ALB reports no
/// TargetResponseTime while nobody sends a request, so after a load test
/// the low-latency alarm would stay INSUFFICIENT_DATA and the fleet at its
/// size, billed, for good: idle counts as fast (the fleet shrinks to its
/// minimum), and never as slow.
pub fn treat_missing_data(comparison: Comparison) -> &'static str {
    match comparison {
        Comparison::GreaterThanThreshold => "notBreaching",
        Comparison::LessThanThreshold => "breaching",
    }
}

/// The ARN of an existing policy (for when PutScalingPolicy does not say it).
async fn policy_arn(clients: &Clients, group: &str, policy: &str) -> Result<String, AwsError> {
    let out = clients
        .autoscaling
        .describe_policies()
        .auto_scaling_group_name(group)
        .policy_names(policy)
        .send()
        .await
        .map_err(api("DescribePolicies", format!("{group}/{policy}")))?;
    out.scaling_policies()
        .iter()
        .find_map(|p| p.policy_arn().filter(|arn| !arn.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| AwsError::Invalid(format!("Auto Scaling has no ARN for policy {policy} of {group}\n  fix: run `photoscale infra up --target aws` again")))
}

pub fn policy_name(adjustment: i32) -> &'static str {
    if adjustment > 0 {
        "scale-out"
    } else {
        "scale-in"
    }
}

fn dimension(name: &str, value: &str) -> aws_sdk_cloudwatch::types::Dimension {
    aws_sdk_cloudwatch::types::Dimension::builder()
        .name(name)
        .value(value)
        .build()
}

/// `app/NAME/ID`: the load balancer's ARN after `loadbalancer/`.
pub fn load_balancer_dimension(arn: &str) -> &str {
    arn.split_once(":loadbalancer/")
        .map_or(arn, |(_, rest)| rest)
}

/// `targetgroup/NAME/ID`: the target group's ARN after the last `:`.
pub fn target_group_dimension(arn: &str) -> &str {
    arn.rsplit_once(':').map_or(arn, |(_, rest)| rest)
}

/// The topic alarm notifications go to: --notify-topic, or our own for --notify-email.
pub async fn ensure_topic(
    clients: &Clients,
    options: &AwsOptions,
    level: u8,
) -> Result<Option<String>, AwsError> {
    if let Some(arn) = &options.notify_topic_arn {
        return Ok(Some(arn.clone()));
    }
    let Some(email) = &options.notify_email else {
        return Ok(None);
    };
    let stack = &options.stack;
    let name = stack.topic();
    let tags = super::names::tags(stack, level).into_iter().map(|(k, v)| {
        aws_sdk_sns::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .expect("key and value are set")
    });
    // CreateTopic returns the existing topic when it is there.
    let topic = clients
        .sns
        .create_topic()
        .name(&name)
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .map_err(api("CreateTopic", &name))?;
    let arn = topic.topic_arn().unwrap_or_default().to_owned();
    let subscriptions = clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&arn)
        .send()
        .await
        .map_err(api("ListSubscriptionsByTopic", &name))?;
    if !subscriptions
        .subscriptions()
        .iter()
        .any(|s| s.endpoint() == Some(email.as_str()))
    {
        clients
            .sns
            .subscribe()
            .topic_arn(&arn)
            .protocol("email")
            .endpoint(email)
            .send()
            .await
            .map_err(api("Subscribe", &name))?;
    }
    Ok(Some(arn))
}

/// Deletes the topic the stack made for its alarms (never one given with
/// `--notify-topic`, which is the user's).
pub async fn delete_own_topic(
    clients: &Clients,
    options: &AwsOptions,
    found: &Inventory,
) -> Result<(), AwsError> {
    if let (Some(topic), None) = (&found.topic, &options.notify_topic_arn) {
        clients
            .sns
            .delete_topic()
            .topic_arn(topic)
            .send()
            .await
            .map_err(api("DeleteTopic", topic))?;
    }
    Ok(())
}

impl Comparison {
    fn describe(&self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => "high",
            Comparison::LessThanThreshold => "low",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_dimensions_come_from_the_arns() {
        let lb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/photoscale-demo/50dc6c495c0c9188";
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/photoscale-demo/73e2d6bc24d8a067";
        assert_eq!(
            load_balancer_dimension(lb),
            "app/photoscale-demo/50dc6c495c0c9188"
        );
        assert_eq!(
            target_group_dimension(tg),
            "targetgroup/photoscale-demo/73e2d6bc24d8a067"
        );
    }
}
