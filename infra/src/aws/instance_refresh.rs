//! A new build (or configuration) for a level 3+ group on AWS: an instance
//! refresh to the new launch template, with the rule of `infra deploy`:
//! every instance is replaced by one that passes the load balancer's health
//! check before it leaves (minimum healthy 100 %, up to twice the capacity
//! meanwhile), and a refresh whose new instances fail is rolled back by
//! Auto Scaling, the old build serving throughout.
//!
//! The group keeps its old launch template until the refresh succeeds (the
//! refresh then sets the new one), so a rollback has somewhere to go back
//! to. moto does not implement instance refreshes; against an emulator the
//! provider rolls the group itself (`fleet::roll_group`), and the request
//! built here is checked by a unit test.

use aws_sdk_autoscaling::types::{
    DesiredConfiguration, LaunchTemplateSpecification, RefreshPreferences, RefreshStrategy,
};

use super::clients::Clients;
use super::error::{api, AwsError};
use super::{wait, AwsOptions};
use crate::progress::Step;

/// How the refresh replaces instances.
pub fn preferences(warmup_s: u64) -> RefreshPreferences {
    RefreshPreferences::builder()
        .min_healthy_percentage(100)
        .max_healthy_percentage(200)
        .instance_warmup(warmup_s as i32)
        .skip_matching(true)
        .auto_rollback(true)
        .build()
}

/// What the instances become: the new launch template.
pub fn desired(template_id: &str) -> DesiredConfiguration {
    DesiredConfiguration::builder()
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(template_id)
                .version("$Latest")
                .build(),
        )
        .build()
}

/// Starts the refresh and waits for its end; an error when it did not
/// succeed (Auto Scaling has then rolled it back).
pub async fn refresh(
    clients: &Clients,
    options: &AwsOptions,
    template_id: &str,
    warmup_s: u64,
    step: &Step,
) -> Result<(), AwsError> {
    let group = options.stack.main();
    let started = clients
        .autoscaling
        .start_instance_refresh()
        .auto_scaling_group_name(&group)
        .strategy(RefreshStrategy::Rolling)
        .preferences(preferences(warmup_s))
        .desired_configuration(desired(template_id))
        .send()
        .await
        .map_err(api("StartInstanceRefresh", &group))?;
    let id = started.instance_refresh_id().unwrap_or_default().to_owned();
    let (status, reason) = wait::until(
        step,
        &format!("instance refresh {id} (each new instance healthy before an old one leaves)"),
        options.timeouts.instances * 2,
        options.timeouts.poll,
        || async {
            let out = clients
                .autoscaling
                .describe_instance_refreshes()
                .auto_scaling_group_name(&group)
                .instance_refresh_ids(&id)
                .send()
                .await
                .map_err(api("DescribeInstanceRefreshes", &id))?;
            let Some(refresh) = out.instance_refreshes().first() else {
                return Ok(None);
            };
            let status = refresh
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            let reason = refresh.status_reason().unwrap_or_default().to_owned();
            Ok(is_finished(&status).then_some((status, reason)))
        },
    )
    .await?;
    if status == "Successful" {
        return Ok(());
    }
    Err(AwsError::Invalid(format!(
        "instance refresh {id} of {group} ended {status}: {reason}\n  rolled back by Auto Scaling: the instances of the previous build keep serving; see the group's activity history in the console"
    )))
}

/// Statuses a refresh does not leave by itself.
fn is_finished(status: &str) -> bool {
    matches!(
        status,
        "Successful" | "Failed" | "Cancelled" | "RollbackSuccessful" | "RollbackFailed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_keeps_every_instance_serving_and_rolls_back_on_failure() {
        let p = preferences(300);
        assert_eq!(
            p.min_healthy_percentage(),
            Some(100),
            "no instance leaves before its replacement serves"
        );
        assert_eq!(
            p.max_healthy_percentage(),
            Some(200),
            "room for the replacements"
        );
        assert_eq!(p.instance_warmup(), Some(300));
        assert_eq!(
            p.skip_matching(),
            Some(true),
            "instances already on the new template stay"
        );
        assert_eq!(p.auto_rollback(), Some(true));
        let d = desired("lt-0abc");
        let template = d.launch_template().unwrap();
        assert_eq!(template.launch_template_id(), Some("lt-0abc"));
        assert_eq!(template.version(), Some("$Latest"));
        assert!(is_finished("RollbackSuccessful") && !is_finished("InProgress"));
    }
}
