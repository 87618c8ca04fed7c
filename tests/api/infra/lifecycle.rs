//! The life of a stack: `up` twice changes nothing, a level change keeps the
//! data, a missing program or a taken port stops `up` without leaving
//! anything running, a crash shows in `status`, and a SIGKILLed instance
//! costs no request.

use std::time::Duration;

use super::stack::{text, Stack, FAST_HEALTH_CHECKS};
use crate::helpers::{Site, PASSWORD};
use crate::images;
use crate::scenario::{fetch_photo, image_src_in};

#[tokio::test]
async fn up_twice_changes_nothing_and_a_level_change_keeps_the_data() {
    let stack = Stack::up(1, &[]).await;
    stack.sign_up("gus").await;
    let photo = images::jpeg(64, 48);
    let response = stack.upload(photo.clone(), "gus.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 303);
    let before = stack.status().await;

    let again = stack.change_to(1, &[]).await;
    assert!(again.contains("Nothing to change"), "{again}");
    assert_eq!(stack.status().await, before, "same processes, same pids");

    stack.change_to(2, &[]).await;
    assert_eq!(
        stack.pid_of("mariadb").await,
        before["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "mariadb")
            .and_then(|c| c["pid"].as_u64())
            .unwrap() as u32,
        "the database is kept"
    );
    // A new browser: the user and the photo survived the move to S3.
    let fresh = stack.visitor();
    let response = fresh.login("gus", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "gus can still log in");
    let ids = fresh.feed_ids().await;
    assert_eq!(ids.len(), 1);
    let page = fresh.get_html(&format!("/photos/{}", ids[0])).await;
    let src = image_src_in(&page);
    assert!(!src.starts_with('/'), "now served from S3: {src}");
    assert_eq!(
        fetch_photo(&fresh, &src).await.1,
        photo,
        "the photo moved to S3"
    );
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_0_to_1_moves_users_and_photos_to_mariadb_and_the_shared_directory() {
    let stack = Stack::up(0, &[]).await;
    stack.sign_up("ida").await;
    let photo = images::jpeg(40, 30);
    let response = stack.upload(photo.clone(), "ida.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 303);

    let to_one = stack.change_to(1, &[]).await;
    assert!(
        to_one.contains("copied 1 user(s), 1 photo(s), 2 file(s)"),
        "{to_one}"
    );
    let fresh = stack.visitor();
    assert_eq!(fresh.login("ida", PASSWORD).await.status().as_u16(), 303);
    let ids = fresh.feed_ids().await;
    assert_eq!(ids.len(), 1);
    assert_eq!(stack.files_under("shared-photos").len(), 2);
    for _ in 0..2 {
        let page = fresh.get_html(&format!("/photos/{}", ids[0])).await;
        assert_eq!(fetch_photo(&fresh, &image_src_in(&page)).await.1, photo);
    }
}

#[tokio::test]
async fn down_then_up_keeps_users_and_photos() {
    let stack = Stack::up(2, &[]).await;
    stack.sign_up("hal").await;
    let photo = images::png(30, 30);
    let response = stack.upload(photo.clone(), "hal.png", "image/png").await;
    assert_eq!(response.status().as_u16(), 303);
    stack.down_and_check_nothing_is_left().await;

    stack.change_to(2, &[]).await;
    let fresh = stack.visitor();
    assert_eq!(fresh.login("hal", PASSWORD).await.status().as_u16(), 303);
    let ids = fresh.feed_ids().await;
    let page = fresh.get_html(&format!("/photos/{}", ids[0])).await;
    assert_eq!(fetch_photo(&fresh, &image_src_in(&page)).await.1, photo);

    let purge = stack.infra(&["infra", "down", "--purge"], &[]).await;
    assert!(purge.status.success(), "{}", text(&purge.stderr));
    assert!(!stack.state_dir.path().exists(), "--purge deletes the data");
}

#[tokio::test]
async fn a_missing_program_stops_up_before_anything_starts() {
    // Every program but haproxy, where `infra up` looks for programs.
    let bin = tempfile::tempdir().unwrap();
    for program in ["mariadbd", "mariadb-install-db", "memcached"] {
        let found = photoscale_infra::doctor::find_program(program).expect(program);
        std::os::unix::fs::symlink(found, bin.path().join(program)).unwrap();
    }
    let stack = Stack::unstarted();
    let path = bin.path().display().to_string();
    let output = stack
        .up_with_env(1, &[], &[("PHOTOSCALE_PROGRAM_PATH", &path)])
        .await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("MISSING  haproxy"), "{stderr}");
    assert!(
        stderr.contains("sudo apt-get install -y haproxy"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
    assert_eq!(stack.status().await["running"], false);
}

#[tokio::test]
async fn an_up_that_fails_half_way_leaves_nothing_running() {
    let stack = Stack::unstarted();
    // Something else holds the S3 server's port: MariaDB and memcached start
    // first, then the S3 server cannot.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", stack.port + 13)).unwrap();
    let output = stack.up_again(2, &[]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("--port"), "says how to fix it: {stderr}");
    assert_eq!(stack.status().await["running"], false, "{stderr}");
    for offset in [10, 11] {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], stack.port + offset));
        assert!(
            std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_err(),
            "{address} was stopped again"
        );
    }
    drop(squatter);
}

#[tokio::test]
async fn a_crashed_component_is_reported_not_hidden() {
    let stack = Stack::up(1, &[]).await;
    let memcached = stack.pid_of("memcached").await;
    nix_kill(memcached);
    let output = stack.infra(&["infra", "status"], &[]).await;
    assert!(
        !output.status.success(),
        "status fails when something crashed"
    );
    let shown = text(&output.stdout);
    assert!(shown.contains("CRASHED"), "{shown}");
    assert!(text(&output.stderr).contains("memcached (crashed)"));
    let status = stack.status().await;
    let entry = status["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "memcached")
        .unwrap()
        .clone();
    assert_eq!(entry["health"], "crashed");

    let down = stack.infra(&["infra", "down"], &[]).await;
    assert!(down.status.success());
    assert!(
        text(&down.stderr).contains("gone     memcached"),
        "{}",
        text(&down.stderr)
    );
}

#[tokio::test]
async fn up_again_replaces_a_crashed_instance() {
    let stack = Stack::up(1, &[]).await;
    let crashed = stack.pid_of("i-1").await;
    nix_kill(crashed);
    stack.change_to(1, &[]).await;
    let status = stack.status().await;
    let i1 = &status["instances"][0];
    assert_ne!(i1["pid"].as_u64().unwrap() as u32, crashed);
    assert_eq!(i1["health"], "healthy", "{status:#}");
    assert_eq!(i1["load_balancer"], "UP", "{status:#}");
}

#[tokio::test]
async fn sigkill_of_an_instance_under_a_stream_of_gets_fails_no_request() {
    let stack = Stack::up(1, &FAST_HEALTH_CHECKS).await;
    let config =
        std::fs::read_to_string(stack.state_dir.path().join("haproxy/haproxy.cfg")).unwrap();
    assert!(config.contains("check inter 500 rise 1 fall 2"), "{config}");
    let victim = stack.pid_of("i-1").await;
    let url = format!("{}/", stack.url);
    let client = reqwest::Client::new();
    let stream = tokio::spawn(async move {
        let mut failures = Vec::new();
        let mut served = 0;
        let started = tokio::time::Instant::now();
        // Past the kill and HAProxy's "fall" checks, until i-1 is out.
        while started.elapsed() < Duration::from_secs(5) {
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => served += 1,
                Ok(r) => failures.push(format!("HTTP {}", r.status())),
                Err(e) => failures.push(e.to_string()),
            }
        }
        (served, failures)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    nix_kill(victim);
    let (served, failures) = stream.await.unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:?}",
        failures.len()
    );
    assert!(served > 50, "a real stream of requests ({served})");
    let status = stack.status().await;
    let i1 = &status["instances"][0];
    assert_eq!(i1["health"], "crashed", "{status:#}");
    assert_eq!(
        i1["load_balancer"], "DOWN",
        "HAProxy took it out: {status:#}"
    );
}

fn nix_kill(pid: u32) {
    // SAFETY: kill(2) with a pid read from the stack's own status.
    let rc = unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill -9 {pid}");
}

#[tokio::test]
async fn two_stacks_run_side_by_side() {
    let (first, second) = tokio::join!(Stack::up(0, &[]), Stack::up(0, &[]));
    assert_ne!(first.url, second.url);
    first.sign_up("joanna").await;
    first.down_and_check_nothing_is_left().await;
    let page = second.get_html("/").await;
    assert!(!page.contains("joanna"), "separate stacks, separate data");
    assert_eq!(second.status().await["instances"][0]["health"], "healthy");
}

#[tokio::test]
async fn latency_is_flipped_per_instance_or_on_all() {
    let stack = Stack::up(1, &[]).await;
    let latency_of =
        |status: &serde_json::Value, n: usize| status["instances"][n]["latency_ms"].clone();
    let set = stack
        .infra(&["latency", "set", "1500ms", "--instance", "i-2"], &[])
        .await;
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        text(&set.stdout).contains("i-2 (127.0.0.12:"),
        "{}",
        text(&set.stdout)
    );
    let status = stack.status().await;
    assert_eq!(
        (latency_of(&status, 0), latency_of(&status, 1)),
        (0.into(), 1500.into())
    );

    let all = stack.infra(&["latency", "set", "0s", "--all"], &[]).await;
    assert!(all.status.success(), "{}", text(&all.stderr));
    assert_eq!(text(&all.stdout).lines().count(), 2);
    assert_eq!(latency_of(&stack.status().await, 1), 0);

    let unknown = stack
        .infra(&["latency", "get", "--instance", "i-9"], &[])
        .await;
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("choose one of: i-1, i-2"),
        "{}",
        text(&unknown.stderr)
    );
}
