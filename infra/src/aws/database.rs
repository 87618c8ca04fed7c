//! The shared database (level 1+): RDS MySQL, reachable only from the app's
//! security group, its master password from the stack's secrets.

use aws_sdk_rds::types::Tag;

use super::clients::Clients;
use super::error::{api, code_of, AwsError};
use super::inventory::Endpointed;
use super::names::StackName;
use super::{wait, AwsOptions};
use crate::progress::Step;

pub async fn ensure(
    clients: &Clients,
    options: &AwsOptions,
    level: u8,
    security_group: &str,
    subnet_group: &str,
    found: Option<&Endpointed>,
) -> Result<(), AwsError> {
    if found.is_some() {
        return Ok(());
    }
    let stack = &options.stack;
    let id = stack.main();
    let password = super::secrets::read(clients, stack, "DB_PASSWORD").await?;
    let tags = super::names::tags(stack, level)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build());
    clients
        .rds
        .create_db_instance()
        .db_instance_identifier(&id)
        .engine("mysql")
        // A pinned major in standard support (8.0's ended July 2026), and
        // no paid Extended Support when it ages out: AWS would otherwise
        // enrol the instance by itself. Minor versions update themselves.
        .engine_version(MYSQL_MAJOR)
        .auto_minor_version_upgrade(true)
        .engine_lifecycle_support("open-source-rds-extended-support-disabled")
        .db_instance_class(&options.db_instance_class)
        .allocated_storage(20)
        .db_name("photoscale")
        .master_username("photoscale")
        .master_user_password(password)
        .vpc_security_group_ids(security_group)
        .db_subnet_group_name(subnet_group)
        .publicly_accessible(false)
        .storage_encrypted(true)
        .backup_retention_period(1)
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .map_err(api("CreateDBInstance", &id))?;
    Ok(())
}

/// `photoscale-demo-final-20261126-142900`: unique per `down`, and found
/// by the stack's name in the console.
pub fn final_snapshot_id(stack: &StackName) -> String {
    // 2026-11-26T14:29:00Z → 20261126-142900
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now
        .chars()
        .filter_map(|c| match c {
            'T' => Some('-'),
            c if c.is_ascii_digit() => Some(c),
            _ => None,
        })
        .collect();
    format!("{}-final-{stamp}", stack.main())
}

/// The MySQL major version the stack's RDS instance runs.
pub const MYSQL_MAJOR: &str = "8.4";

/// Waits until the database is available; returns its `host:port`.
pub async fn wait_available(
    clients: &Clients,
    stack: &StackName,
    options: &AwsOptions,
    step: &Step,
) -> Result<String, AwsError> {
    let what = format!(
        "RDS instance {} to be available (usually 5 to 15 minutes)",
        stack.main()
    );
    wait::until(
        step,
        &what,
        options.timeouts.database,
        options.timeouts.poll,
        || async {
            let db = super::discovery::discover_database(clients, stack).await?;
            if let Some(db) = &db {
                let resource = format!("RDS instance {}", stack.main());
                wait::refuse_terminal(&resource, &db.status, wait::RDS_TERMINAL)?;
            }
            Ok(db
                .filter(|d| d.status == "available")
                .and_then(|d| d.endpoint))
        },
    )
    .await
}

/// Deletes the database, with a final snapshot when `options.final_snapshot`
/// (`down --final-snapshot`), and waits until it is gone.
pub async fn delete(
    clients: &Clients,
    stack: &StackName,
    options: &AwsOptions,
    step: &Step,
) -> Result<(), AwsError> {
    let id = stack.main();
    let mut request = clients
        .rds
        .delete_db_instance()
        .db_instance_identifier(&id)
        .delete_automated_backups(true);
    request = match options.final_snapshot {
        true => request
            .skip_final_snapshot(false)
            .final_db_snapshot_identifier(final_snapshot_id(stack)),
        false => request.skip_final_snapshot(true),
    };
    match request.send().await {
        Ok(_) => {}
        Err(e) if code_of(&e) == Some("DBInstanceNotFound") => return Ok(()),
        Err(e) if code_of(&e) == Some("InvalidDBInstanceState") => {} // already being deleted
        Err(e) => return Err(api("DeleteDBInstance", &id)(e)),
    }
    let what = format!("RDS instance {id} to be deleted");
    wait::until(
        step,
        &what,
        options.timeouts.deletion,
        options.timeouts.poll,
        || async {
            Ok(super::discovery::discover_database(clients, stack)
                .await?
                .is_none()
                .then_some(()))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_final_snapshot_is_named_after_the_stack_and_the_time() {
        let stack = super::StackName::parse("demo").unwrap();
        let id = super::final_snapshot_id(&stack);
        let stamp = id.strip_prefix("photoscale-demo-final-").unwrap();
        assert_eq!(stamp.len(), "20261126-142900".len(), "{id}");
        assert!(
            stamp.chars().all(|c| c.is_ascii_digit() || c == '-'),
            "{id}"
        );
    }
}
