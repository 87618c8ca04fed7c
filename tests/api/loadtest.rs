//! `photoscale loadtest` against a real app: closed and open loop, the
//! files it writes, latency flips on a stack, and bad flags.

use serde_json::Value;

use crate::helpers::spawn_app;
use crate::infra::stack::{photoscale, text, Stack};

async fn loadtest(args: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().display().to_string();
    let mut all = vec!["loadtest", "--out", &out_dir];
    all.extend(args);
    (photoscale(&all, &[]).await, out)
}

fn summary(out: &tempfile::TempDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_closed_loop_run_reports_every_second_and_writes_its_files() {
    let app = spawn_app().await;
    let empty_state = tempfile::tempdir().unwrap();
    let state = empty_state.path().display().to_string();
    let (output, out) = loadtest(&[
        "--url",
        &app.address,
        "--duration",
        "2s",
        "--concurrency",
        "4",
        "--state-dir",
        &state,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("4 clients (closed loop)"), "{shown}");
    assert!(shown.contains("errors: none"), "{shown}");
    assert!(shown.contains("served by: i-test 100.0%"), "{shown}");

    let summary = summary(&out);
    let requests = summary["overall"]["requests"].as_u64().unwrap();
    assert!(requests > 20, "{summary:#}");
    assert!(summary["requests_by_kind"]["feed"].as_u64().unwrap() > 0);
    assert!(
        summary["overall"]["p99_ms"].as_f64().unwrap()
            >= summary["overall"]["p50_ms"].as_f64().unwrap()
    );
    let csv = std::fs::read_to_string(out.path().join("series.csv")).unwrap();
    assert!(csv.starts_with("second,requests,p50_ms,p90_ms,p99_ms,max_ms,errors,instances\n"));
    let rows: u64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(rows, requests, "the series adds up to the total");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(html.matches("<svg").count(), 6, "six charts");
    assert!(html.contains("<tr><td>feed</td>"), "a row per kind");
    let feed = &summary["overall"]["by_kind"]["feed"];
    assert!(feed["requests"].as_u64().unwrap() > 0, "{summary:#}");
    assert!(feed["p99_ms"].as_f64().unwrap() >= feed["p50_ms"].as_f64().unwrap());
    let live = text(&output.stderr);
    assert!(
        live.contains("[   1/2 s]"),
        "a live line each second: {live}"
    );
}

#[tokio::test]
async fn an_open_loop_run_keeps_its_rate() {
    let app = spawn_app().await;
    let (output, out) = loadtest(&[
        "--url",
        &app.address,
        "--duration",
        "2s",
        "--rate",
        "50",
        "--mix",
        "feed=1",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let requests = summary(&out)["overall"]["requests"].as_u64().unwrap();
    assert!((95..=101).contains(&requests), "50/s for 2 s: {requests}");
}

#[tokio::test]
async fn latency_flips_on_a_stack_are_applied_and_marked() {
    let stack = Stack::up(1, &[]).await;
    let state = stack.state_dir.path().display().to_string();
    let (output, out) = loadtest(&[
        "--url",
        &stack.url,
        "--duration",
        "2s",
        "--concurrency",
        "2",
        "--state-dir",
        &state,
        "--flip",
        "1s:200ms:i-2",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("latency of i-2 set to 200ms"),
        "{}",
        text(&output.stdout)
    );
    let markers = summary(&out)["markers"].clone();
    assert!(markers[0]["at_s"].as_f64().unwrap() >= 1.0, "{markers:#}");
    assert_eq!(stack.status().await["instances"][1]["latency_ms"], 200);
}

#[tokio::test]
async fn one_path_at_a_fixed_rate_as_a_logged_in_member() {
    let app = spawn_app().await;
    let empty_state = tempfile::tempdir().unwrap();
    let state = empty_state.path().display().to_string();
    let (output, out) = loadtest(&[
        "--url",
        &app.address,
        "--duration",
        "1s",
        "--rate",
        "40",
        "--path",
        "/healthz",
        "--state-dir",
        &state,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let fixed = summary(&out);
    assert!(
        fixed["requests_by_kind"]["get"].as_u64().unwrap() >= 30,
        "{fixed:#}"
    );
    assert!(fixed["requests_by_kind"].get("feed").is_none());
    assert_eq!(fixed["overall"]["errors"], serde_json::json!({}));

    // Logged in, every client's feed is a member's page: a wrong page (a
    // login form instead) would not be a 200 of `/upload`.
    let (output, out) = loadtest(&[
        "--url",
        &app.address,
        "--duration",
        "1s",
        "--rate",
        "20",
        "--path",
        "/upload",
        "--log-in",
        "--state-dir",
        &state,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let member = summary(&out);
    assert!(member["requests_by_kind"]["get"].as_u64().unwrap() >= 10);
    assert_eq!(
        member["overall"]["errors"],
        serde_json::json!({}),
        "{member:#}"
    );
}

#[tokio::test]
async fn bad_flags_say_what_is_wrong() {
    let (output, _) = loadtest(&["--mix", "feed=x"]).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("whole number"),
        "{}",
        text(&output.stderr)
    );
    let (output, _) = loadtest(&["--flip", "soon"]).await;
    assert!(
        text(&output.stderr).contains("OFFSET:LATENCY:TARGET"),
        "{}",
        text(&output.stderr)
    );
    let (output, _) = loadtest(&["--path", "healthz"]).await;
    assert!(
        text(&output.stderr).contains("starts with a single /"),
        "{}",
        text(&output.stderr)
    );
    let (output, _) = loadtest(&["--path", "/healthz", "--mix", "feed=1"]).await;
    assert!(
        text(&output.stderr).contains("cannot be used with"),
        "{}",
        text(&output.stderr)
    );
    let nowhere = tempfile::tempdir().unwrap();
    let state = nowhere.path().display().to_string();
    let (output, _) = loadtest(&["--flip", "1s:1s:all", "--state-dir", &state]).await;
    assert!(
        text(&output.stderr).contains("needs a running local stack"),
        "{}",
        text(&output.stderr)
    );
}
