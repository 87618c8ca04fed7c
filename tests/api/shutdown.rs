//! Runs the real binary: graceful shutdown on SIGTERM and JSON logs.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `photoscale serve` on a free port; returns the child and its base URL.
async fn start_server(
    data_dir: &std::path::Path,
    extra: &[&str],
) -> (
    Child,
    String,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_photoscale"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            if let Some(address) = event["address"].as_str() {
                return format!("http://{address}");
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server starts");
    (child, url, lines)
}

fn send_sigterm(child: &Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, _lines) = start_server(dir.path(), &["--latency", "1500ms"]).await;
    let client = reqwest::Client::new();
    let in_flight = tokio::spawn({
        let url = url.clone();
        let client = client.clone();
        async move { client.get(format!("{url}/")).send().await }
    });
    // Let the slow request reach the server before the signal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_sigterm(&child);

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status().as_u16(), 200);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0");
    assert!(
        client.get(format!("{url}/healthz")).send().await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_with_the_details() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, mut lines) = start_server(dir.path(), &["--instance-id", "i-json"]).await;
    let response = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("a request log line");
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["message"] == "request" {
                return event;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(event["method"], "GET");
    assert_eq!(event["path"], "/healthz");
    assert_eq!(event["status"], 200);
    assert_eq!(event["instance_id"], "i-json");
    assert!(event["latency_ms"].is_string() || event["latency_ms"].is_number());
    send_sigterm(&child);
    child.wait().await.unwrap();
}

/// The data directory and what the server writes there are its owner's
/// alone, even when the directory existed, open to all, before it started.
#[tokio::test]
async fn the_data_directory_and_its_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (mut child, url, _lines) = start_server(&dir, &[]).await;
    let response = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory");
    let mut files = 0;
    for entry in walk(&dir) {
        let m = mode(&entry);
        assert_eq!(m & 0o077, 0, "{} is {m:o}", entry.display());
        files += 1;
    }
    assert!(files >= 2, "the database and the session key at least");
    child.kill().await.unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
