//! `infra up --backup-every`: the fleet backs its database up on a
//! schedule, exactly one instance at a time (MariaDB's named lock): two
//! instances, one backup per interval.

use std::time::Duration;

use super::stack::{photoscale, text, Stack, FAST_HEALTH_CHECKS};
use crate::helpers::Site;

#[tokio::test]
async fn a_level_1_fleet_backs_up_once_per_interval() {
    let mut args = vec!["--backup-every", "2s"];
    args.extend(FAST_HEALTH_CHECKS);
    let stack = Stack::up(1, &args).await;
    let visitor = stack.visitor();
    visitor.sign_up("alice").await;
    let config = stack.state_dir.path().join("app").join("photoscale.toml");
    let config = config.display().to_string();
    let list = || async {
        let output = photoscale(&["--config", &config, "backup", "list", "--json"], &[]).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let backups = loop {
        let backups = list().await;
        if backups.as_array().unwrap().len() >= 3 {
            break backups;
        }
        assert!(tokio::time::Instant::now() < deadline, "{backups:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let times: Vec<jiff::Timestamp> = backups
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["created_at"].as_str().unwrap().parse().unwrap())
        .collect();
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= jiff::SignedDuration::from_millis(1900),
            "two runners made backups {gap} apart: {backups:#}"
        );
    }
    assert!(backups
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["engine"] == "mysql"));
    assert!(
        backups.as_array().unwrap().last().unwrap()["users"].as_u64() >= Some(1),
        "{backups:#}"
    );
    // The backups live beside the photos, in the shared directory.
    assert!(stack.files_under("shared-photos/backups").len() >= 6);
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_0_has_no_fleet_to_back_up_on_a_schedule() {
    let refused = photoscale(
        &["infra", "plan", "--level", "0", "--backup-every", "10m"],
        &[],
    )
    .await;
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(message.contains("--backup-every"), "{message}");
    assert!(message.contains("photoscale backup create"), "{message}");
}
