//! Scheduled scaling on a real level-3 stack: an action set a few seconds
//! ahead raises the group's minimum at its time, the autoscaler launches
//! the instance it calls for, and the activity history says why. The
//! cron side (an action at its minute, in its time zone) is tested on a
//! fake clock in photoscale-infra's `schedule` and `autoscale` modules.

use std::time::Duration;

use serde_json::Value;

use super::stack::{text, wait_for, Stack, FAST_HEALTH_CHECKS};

#[tokio::test]
async fn a_scheduled_action_raises_the_minimum_at_its_time() {
    let mut args = vec!["--min", "2", "--max", "3"];
    args.extend(FAST_HEALTH_CHECKS);
    let stack = Stack::up(3, &args).await;

    // Refusals first: nothing is stored.
    let too_big = stack
        .infra(
            &[
                "infra",
                "schedule",
                "add",
                "big",
                "--cron",
                "0 8 * * *",
                "--max",
                "5",
            ],
            &[],
        )
        .await;
    assert!(!too_big.status.success());
    assert!(
        text(&too_big.stderr).contains("more than this stack has addresses for (3"),
        "{}",
        text(&too_big.stderr)
    );
    let bad_cron = stack
        .infra(
            &[
                "infra", "schedule", "add", "bad", "--cron", "8am", "--min", "3",
            ],
            &[],
        )
        .await;
    assert!(text(&bad_cron.stderr).contains("not a five-field cron pattern"));

    // Five seconds from now, in Paris time without an offset.
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(5))
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap())
        .datetime()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string();
    let added = stack
        .infra(
            &[
                "infra",
                "schedule",
                "add",
                "busy-hour",
                "--at",
                &at,
                "--time-zone",
                "Europe/Paris",
                "--min",
                "3",
            ],
            &[],
        )
        .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(text(&added.stderr).contains("Scheduled action busy-hour added"));
    let listed = stack
        .infra(&["infra", "schedule", "list", "--json"], &[])
        .await;
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "busy-hour");
    assert_eq!(listed[0]["min"], 3);
    assert!(listed[0]["next_run"].is_string(), "{listed:#}");
    let before = stack.status().await;
    assert_eq!(before["autoscaling"]["min"], 2, "not before its time");

    let after = wait_for(
        &stack,
        Duration::from_secs(40),
        "the scheduled scale-out",
        |s| {
            s["autoscaling"]["min"] == 3
                && s["autoscaling"]["desired"] == 3
                && s["instances"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["health"] == "healthy" && i["load_balancer"] == "UP")
                    .count()
                    == 3
        },
    )
    .await;
    assert_eq!(after["autoscaling"]["max"], 3);
    let events = text(&stack.infra(&["infra", "events"], &[]).await.stdout);
    assert!(
        events.contains("scheduled action busy-hour: min 2 -> 3, max 3 -> 3, desired 2 -> 3"),
        "{events}"
    );
    assert!(
        events.contains("launching an instance: scheduled action busy-hour"),
        "{events}"
    );

    // A once action is listed as done; removing it leaves none.
    let removed = stack
        .infra(&["infra", "schedule", "remove", "busy-hour"], &[])
        .await;
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let unknown = stack
        .infra(&["infra", "schedule", "remove", "busy-hour"], &[])
        .await;
    assert!(text(&unknown.stderr)
        .contains("no scheduled action named \"busy-hour\"; the stack has: none"));
    let empty = stack.infra(&["infra", "schedule", "list"], &[]).await;
    assert!(text(&empty.stdout).contains("No scheduled actions"));
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn below_level_3_there_is_no_group_to_schedule() {
    let stack = Stack::up(0, &[]).await;
    let refused = stack
        .infra(
            &[
                "infra",
                "schedule",
                "add",
                "mornings",
                "--cron",
                "0 8 * * 1-5",
                "--min",
                "3",
            ],
            &[],
        )
        .await;
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("levels 3 and 4 have; this stack is level 0"),
        "{message}"
    );
    assert!(!stack
        .files_under("autoscaler")
        .iter()
        .any(|f| f.contains("schedules")));
    stack.down_and_check_nothing_is_left().await;
}
