//! Changing the simulated latency at run time: `/admin/latency` behind the
//! admin token, and `photoscale latency get|set` calling it.

use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::helpers::Site;
use crate::helpers::{spawn_app, spawn_app_with, TestApp};

const TOKEN: &str = "test-admin-token-0123456789";

async fn admin_app() -> TestApp {
    spawn_app_with(|s| s.admin.token = Some(SecretString::from(TOKEN))).await
}

async fn put_latency(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url("/admin/latency"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn latency_changes_on_a_running_instance() {
    let app = admin_app().await;
    let response = put_latency(&app, TOKEN, serde_json::json!({ "latency": "400ms" })).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["latency_ms"], 400);
    assert_eq!(body["instance_id"], "i-test");

    // The front page now waits at least that long, and says so.
    let started = Instant::now();
    let html = app.get_html("/").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(html.contains("400 ms"), "{html}");

    let got: serde_json::Value = reqwest::Client::new()
        .get(app.url("/admin/latency"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["latency"], "400ms");

    let response = put_latency(&app, TOKEN, serde_json::json!({ "latency_ms": 0 })).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(app.state.latency.get(), Duration::ZERO);
}

#[tokio::test]
async fn wrong_or_missing_token_is_refused() {
    let app = admin_app().await;
    let response = put_latency(
        &app,
        "not-the-token",
        serde_json::json!({ "latency": "3s" }),
    )
    .await;
    assert_eq!(response.status().as_u16(), 401);
    let response = reqwest::get(app.url("/admin/latency")).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(app.state.latency.get(), Duration::ZERO, "nothing changed");
}

#[tokio::test]
async fn admin_api_is_off_without_a_token() {
    let app = spawn_app().await;
    let response = put_latency(&app, "", serde_json::json!({ "latency": "3s" })).await;
    assert_eq!(response.status().as_u16(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("admin.token"));
    assert_eq!(app.state.latency.get(), Duration::ZERO);
}

#[tokio::test]
async fn bad_latency_values_are_explained() {
    let app = admin_app().await;
    for body in [
        serde_json::json!({ "latency": "soon" }),
        serde_json::json!({ "latency": "10m" }),
        serde_json::json!({ "delay": "3s" }),
    ] {
        let response = put_latency(&app, TOKEN, body.clone()).await;
        assert_eq!(response.status().as_u16(), 400, "{body}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert!(answer["error"].as_str().unwrap().len() > 10, "{answer}");
    }
    assert_eq!(app.state.latency.get(), Duration::ZERO);
}

fn cli(args: &[&str], token_env: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_photoscale"));
    command
        .args(args)
        .env_remove("PHOTOSCALE_ADMIN__TOKEN")
        .current_dir(std::env::temp_dir());
    if let Some(token) = token_env {
        command.env("PHOTOSCALE_ADMIN__TOKEN", token);
    }
    command.output().unwrap()
}

#[tokio::test]
async fn latency_cli_sets_and_gets() {
    let app = admin_app().await;
    let url = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        cli(&["latency", "set", "1500ms", "--url", &url], Some(TOKEN))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("i-test") && stdout.contains("1s 500ms"),
        "{stdout}"
    );
    assert_eq!(app.state.latency.get(), Duration::from_millis(1500));

    let url = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        cli(&["latency", "get", "--url", &url, "--token", TOKEN], None)
    })
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("1s 500ms"));
}

#[tokio::test]
async fn latency_cli_errors_say_what_to_do() {
    let app = admin_app().await;
    let url = app.address.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        [
            cli(
                &["latency", "set", "3s", "--url", &url],
                Some("wrong-token-0000000000"),
            ),
            cli(&["latency", "set", "3s", "--url", &url], None),
            cli(&["latency", "set", "quickly", "--url", &url], Some(TOKEN)),
            cli(
                &["latency", "get", "--url", "http://127.0.0.1:9"],
                Some(TOKEN),
            ),
        ]
    })
    .await
    .unwrap();
    let stderr: Vec<String> = outputs
        .iter()
        .map(|o| {
            assert!(!o.status.success());
            String::from_utf8_lossy(&o.stderr).into_owned()
        })
        .collect();
    assert!(
        stderr[0].contains("refused the admin token"),
        "{}",
        stderr[0]
    );
    assert!(stderr[1].contains("no admin token given"), "{}", stderr[1]);
    assert!(stderr[2].contains("250ms"), "{}", stderr[2]);
    assert!(
        stderr[3].contains("is photoscale running there"),
        "{}",
        stderr[3]
    );
    assert!(
        stderr.iter().all(|e| !e.contains(TOKEN)),
        "the token is never printed"
    );
    assert_eq!(app.state.latency.get(), Duration::ZERO);
}
