//! Scheduled scaling on AWS: the stack's scheduled actions are Auto Scaling
//! scheduled actions on its group, with the same meaning as the local
//! autoscaler's (see `crate::schedule`): a cron pattern with an explicit
//! time zone (Recurrence, TimeZone), or once at an instant (StartTime, UTC).

use aws_sdk_autoscaling::primitives::DateTime;
use aws_sdk_autoscaling::types::ScheduledUpdateGroupAction;

use super::clients::Clients;
use super::error::{api, AwsError};
use super::AwsOptions;
use crate::schedule::{validate_all, ScheduledAction};

/// The stack's group name, when it has a group (levels 3 and 4).
async fn group(clients: &Clients, options: &AwsOptions) -> Result<String, AwsError> {
    match super::discovery::auto_scaling_group(clients, &options.stack).await? {
        Some(group) => Ok(group.name),
        None => Err(AwsError::Invalid(format!(
            "stack {} has no Auto Scaling group: scheduled scaling needs level 3 or 4\n  fix: photoscale infra up --target aws --level 3 --stack {}",
            options.stack, options.stack
        ))),
    }
}

/// Creates or replaces each action (PutScheduledUpdateGroupAction replaces
/// an action of the same name).
pub async fn put(options: &AwsOptions, actions: &[ScheduledAction]) -> Result<(), AwsError> {
    validate_all(actions).map_err(|e| AwsError::Invalid(e.to_string()))?;
    let clients = Clients::connect(&options.connection).await?;
    let group = group(&clients, options).await?;
    for action in actions {
        put_one(&clients, &group, action).await?;
    }
    Ok(())
}

/// The request for one action, as the provider sends it (also read by a
/// unit test, since it holds the mapping of our fields to AWS's).
pub fn request_fields(action: &ScheduledAction) -> Result<RequestFields, AwsError> {
    let at = action
        .at_timestamp()
        .map_err(|e| AwsError::Invalid(e.to_string()))?;
    Ok(RequestFields {
        name: action.name.clone(),
        recurrence: action.cron.clone(),
        time_zone: action.cron.as_ref().map(|_| action.time_zone.clone()),
        start_time_ms: at.map(|t| t.as_millisecond()),
        min: action.min.map(|n| n as i32),
        max: action.max.map(|n| n as i32),
        desired: action.desired.map(|n| n as i32),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFields {
    pub name: String,
    pub recurrence: Option<String>,
    pub time_zone: Option<String>,
    pub start_time_ms: Option<i64>,
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub desired: Option<i32>,
}

async fn put_one(clients: &Clients, group: &str, action: &ScheduledAction) -> Result<(), AwsError> {
    let fields = request_fields(action)?;
    clients
        .autoscaling
        .put_scheduled_update_group_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(&fields.name)
        .set_recurrence(fields.recurrence)
        .set_time_zone(fields.time_zone)
        .set_start_time(fields.start_time_ms.map(DateTime::from_millis))
        .set_min_size(fields.min)
        .set_max_size(fields.max)
        .set_desired_capacity(fields.desired)
        .send()
        .await
        .map_err(api("PutScheduledUpdateGroupAction", &action.name))?;
    Ok(())
}

/// The group's scheduled actions, read back into our terms.
pub async fn list(options: &AwsOptions) -> Result<Vec<ScheduledAction>, AwsError> {
    let clients = Clients::connect(&options.connection).await?;
    let group = group(&clients, options).await?;
    let out = clients
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name(&group)
        .send()
        .await
        .map_err(api("DescribeScheduledActions", &group))?;
    Ok(out
        .scheduled_update_group_actions()
        .iter()
        .map(from_aws)
        .collect())
}

fn from_aws(a: &ScheduledUpdateGroupAction) -> ScheduledAction {
    let cron = a.recurrence().map(str::to_owned);
    let at = if cron.is_none() {
        a.start_time()
            .and_then(|t| jiff::Timestamp::from_millisecond(t.to_millis().ok()?).ok())
            .map(|t| t.to_string())
    } else {
        None
    };
    ScheduledAction {
        name: a.scheduled_action_name().unwrap_or_default().to_owned(),
        time_zone: a.time_zone().unwrap_or("UTC").to_owned(),
        cron,
        at,
        min: a.min_size().map(|n| n.max(0) as u32),
        max: a.max_size().map(|n| n.max(0) as u32),
        desired: a.desired_capacity().map(|n| n.max(0) as u32),
    }
}

pub async fn remove(options: &AwsOptions, name: &str) -> Result<(), AwsError> {
    let existing = list(options).await?;
    if !existing.iter().any(|a| a.name == name) {
        let names: Vec<&str> = existing.iter().map(|a| a.name.as_str()).collect();
        return Err(AwsError::Invalid(format!(
            "stack {} has no scheduled action named {name:?}; it has: {}",
            options.stack,
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        )));
    }
    let clients = Clients::connect(&options.connection).await?;
    let group = options.stack.main();
    clients
        .autoscaling
        .delete_scheduled_action()
        .auto_scaling_group_name(&group)
        .scheduled_action_name(name)
        .send()
        .await
        .map_err(api("DeleteScheduledAction", name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_action_sends_recurrence_and_time_zone_and_a_once_action_a_start_time() {
        let mut action = ScheduledAction {
            name: "weekday-mornings".into(),
            cron: Some("0 8 * * 1-5".into()),
            at: None,
            time_zone: "Europe/Paris".into(),
            min: Some(3),
            max: Some(6),
            desired: None,
        };
        let fields = request_fields(&action).unwrap();
        assert_eq!(fields.recurrence.as_deref(), Some("0 8 * * 1-5"));
        assert_eq!(fields.time_zone.as_deref(), Some("Europe/Paris"));
        assert_eq!(
            (fields.min, fields.max, fields.desired),
            (Some(3), Some(6), None)
        );
        assert_eq!(fields.start_time_ms, None);

        action.cron = None;
        action.at = Some("2026-12-01T08:00".into());
        let fields = request_fields(&action).unwrap();
        assert_eq!(fields.recurrence, None);
        assert_eq!(fields.time_zone, None, "the instant is sent in UTC");
        let expected: jiff::Timestamp = "2026-12-01T07:00:00Z".parse().unwrap();
        assert_eq!(fields.start_time_ms, Some(expected.as_millisecond()));
    }
}
