//! `infra deploy` on a real level-3 stack: a second build replaces the
//! fleet under load with no failed request, the fleet visibly mixed on the
//! way; `up` with another build rolls the same way; a build that fails its
//! health check is rolled back while the deployed build keeps serving.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::stack::{photoscale, text, Stack, FAST_HEALTH_CHECKS};

/// The build id this photoscale reports.
async fn current_build() -> String {
    let output = photoscale(&["--version"], &[]).await;
    let line = text(&output.stdout);
    line.trim().strip_prefix("photoscale ").unwrap().to_owned()
}

/// A second build: this program with another build time stamped in, as a
/// rebuild makes (same length, so nothing else moves).
async fn second_build(dir: &Path) -> (PathBuf, String) {
    let old = current_build().await;
    let (head, _) = old.rsplit_once('.').unwrap();
    let new = format!("{head}.20991231T235959Z");
    assert_eq!(new.len(), old.len());
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_photoscale")).unwrap();
    let pattern = regex::bytes::Regex::new(&regex::escape(&old)).unwrap();
    let patched = pattern.replace_all(&bytes, new.as_bytes());
    assert!(
        matches!(patched, std::borrow::Cow::Owned(_)),
        "the build id is in the program"
    );
    let path = dir.join("photoscale");
    std::fs::write(&path, &*patched).unwrap();
    make_executable(&path);
    let reported = text(&photoscale_at(&path).await.stdout);
    assert_eq!(reported.trim(), format!("photoscale {new}"));
    (path, new)
}

/// A build that says what it is but cannot serve.
fn broken_build(dir: &Path) -> PathBuf {
    let path = dir.join("broken");
    std::fs::create_dir_all(&path).unwrap();
    let path = path.join("photoscale");
    std::fs::write(
        &path,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'photoscale 0.1.0+gbroken.20991231T000000Z'; exit 0; fi\necho 'this build cannot start' >&2\nexit 1\n",
    )
    .unwrap();
    make_executable(&path);
    path
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

async fn photoscale_at(path: &Path) -> std::process::Output {
    tokio::process::Command::new(path)
        .arg("--version")
        .output()
        .await
        .unwrap()
}

/// GETs of `/` in a loop until stopped; counts failures.
struct Load {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(url: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::new();
        let tasks = (0..6)
            .map(|_| {
                let (stop, served, failures) = (stop.clone(), served.clone(), failures.clone());
                let (client, url) = (client.clone(), format!("{url}/"));
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => {
                                served.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(r) => failures
                                .lock()
                                .unwrap()
                                .push(format!("HTTP {}", r.status())),
                            Err(e) => failures.lock().unwrap().push(e.to_string()),
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            served,
            failures,
            tasks,
        }
    }

    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.served.load(Ordering::Relaxed), failures)
    }
}

fn builds(status: &Value) -> BTreeSet<String> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["build"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_deploy_replaces_the_fleet_under_load_and_a_failing_build_is_rolled_back() {
    // Room for a batch of two new instances beside the two old ones.
    let mut args = vec!["--min", "2", "--max", "4"];
    args.extend(FAST_HEALTH_CHECKS);
    let stack = Stack::up(3, &args).await;
    let old = current_build().await;
    let status = stack.status().await;
    assert_eq!(
        builds(&status),
        BTreeSet::from([old.clone()]),
        "status shows the build"
    );
    let scratch = tempfile::tempdir_in(stack.state_dir.path().parent().unwrap()).unwrap();
    let (second, new) = second_build(scratch.path()).await;

    let load = Load::start(&stack.url);
    let binary = second.display().to_string();
    let deploying = {
        let state_dir = stack.state_dir.path().display().to_string();
        tokio::spawn(async move {
            photoscale(
                &[
                    "infra",
                    "deploy",
                    "--binary",
                    &binary,
                    "--batch",
                    "2",
                    "--state-dir",
                    &state_dir,
                ],
                &[],
            )
            .await
        })
    };
    let mut mixed = false;
    while !deploying.is_finished() {
        let seen = builds(&stack.status().await);
        mixed |= seen.contains(&old) && seen.contains(&new);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deployed = deploying.await.unwrap();
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    assert!(
        text(&deployed.stderr).contains(&format!("Deployed {new} (was {old})")),
        "{}",
        text(&deployed.stderr)
    );
    assert!(mixed, "the fleet was seen running both builds mid-way");
    // One batch of two: both new instances came up beside the old ones.
    assert!(
        text(&deployed.stderr).contains("i-1 -> i-3, i-2 -> i-4"),
        "{}",
        text(&deployed.stderr)
    );
    let after = stack.status().await;
    assert_eq!(builds(&after), BTreeSet::from([new.clone()]));
    assert_eq!(after["instances"].as_array().unwrap().len(), 2);

    // `up` with another build (this photoscale, the first build) rolls the
    // fleet the same way, under the same load.
    let back = stack.up_again(3, &args).await;
    assert!(back.status.success(), "{}", text(&back.stderr));
    assert!(
        text(&back.stderr).contains(&format!("running {old}")),
        "{}",
        text(&back.stderr)
    );
    assert_eq!(builds(&stack.status().await), BTreeSet::from([old.clone()]));
    assert_eq!(
        stack.status().await["instances"].as_array().unwrap().len(),
        2
    );

    // A build that cannot start, a batch of two at once: stopped, rolled
    // back, still serving.
    let broken = broken_build(scratch.path()).display().to_string();
    let failed = stack
        .infra(
            &[
                "infra",
                "deploy",
                "--batch",
                "2",
                "--binary",
                &broken,
                "--health-timeout",
                "20s",
            ],
            &[],
        )
        .await;
    assert!(!failed.status.success());
    let message = text(&failed.stderr);
    assert!(
        message.contains("deploy of 0.1.0+gbroken.20991231T000000Z stopped"),
        "{message}"
    );
    assert!(
        message.contains(&format!("rolled back: every instance runs {old} again")),
        "{message}"
    );
    let (served, failures) = load.finish().await;
    assert!(
        failures.is_empty(),
        "{} failed of {served}: {failures:?}",
        failures.len()
    );
    assert!(served > 50, "a real load ({served} requests)");
    // Every instance serving, on the deployed build (HAProxy's checks may
    // take a moment to call a busy instance UP again).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let after = stack.status().await;
        assert_eq!(builds(&after), BTreeSet::from([old.clone()]));
        let serving = after["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["health"] == "healthy" && i["load_balancer"] == "UP");
        if serving {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{after:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Not a photoscale at all: refused before anything changes.
    let not_ours = stack
        .infra(&["infra", "deploy", "--binary", "/bin/true"], &[])
        .await;
    assert!(text(&not_ours.stderr).contains("is not a photoscale build"));
    stack.down_and_check_nothing_is_left().await;
}
