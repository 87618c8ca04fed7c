//! Level 3 with shortened timings: under load, slow one instance down and
//! watch the fleet grow by one and the new instance take traffic; speed it
//! up again and watch the fleet shrink back with no failed request; kill an
//! instance and watch it be replaced.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::stack::{text, wait_for, Stack, FAST_HEALTH_CHECKS};

/// GETs of `/` from `workers` loops until stopped: (served by, failures).
struct Load {
    stop: Arc<AtomicBool>,
    served_by: Arc<Mutex<BTreeSet<String>>>,
    failures: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<usize>>,
}

impl Load {
    fn start(url: &str, workers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let served_by = Arc::new(Mutex::new(BTreeSet::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::new();
        let tasks = (0..workers)
            .map(|_| {
                let (stop, served_by, failures) =
                    (stop.clone(), served_by.clone(), failures.clone());
                let (client, url) = (client.clone(), format!("{url}/"));
                tokio::spawn(async move {
                    let mut count = 0;
                    while !stop.load(Ordering::Relaxed) {
                        match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => {
                                let id = r.headers()["x-instance-id"].to_str().unwrap().to_owned();
                                served_by.lock().unwrap().insert(id);
                                count += 1;
                            }
                            Ok(r) => failures
                                .lock()
                                .unwrap()
                                .push(format!("HTTP {}", r.status())),
                            Err(e) => failures.lock().unwrap().push(e.to_string()),
                        }
                    }
                    count
                })
            })
            .collect();
        Load {
            stop,
            served_by,
            failures,
            tasks,
        }
    }

    fn has_served(&self, id: &str) -> bool {
        self.served_by.lock().unwrap().contains(id)
    }

    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for task in self.tasks {
            total += task.await.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (total, failures)
    }
}

fn healthy_instances(status: &Value) -> Vec<String> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["health"] == "healthy" && i["load_balancer"] == "UP")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_latency(stack: &Stack, args: &[&str]) {
    let mut all = vec!["latency", "set"];
    all.extend(args);
    let output = stack.infra(&all, &[]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[tokio::test]
async fn latency_grows_the_fleet_and_its_end_shrinks_it_without_a_failed_request() {
    let mut timings = vec![
        "--min",
        "2",
        "--max",
        "3",
        "--alarm-period",
        "3s",
        "--cooldown",
        "5s",
        "--grace-period",
        "2s",
    ];
    timings.extend(FAST_HEALTH_CHECKS);
    let stack = Stack::up(3, &timings).await;
    let load = Load::start(&stack.url, 8);

    // The average crosses 1 s when one of two instances answers in 3 s.
    set_latency(&stack, &["3s", "--instance", "i-1"]).await;
    let grown = wait_for(&stack, Duration::from_secs(40), "scale-out to 3", |s| {
        s["autoscaling"]["desired"] == 3 && healthy_instances(s).len() == 3
    })
    .await;
    assert!(healthy_instances(&grown).contains(&"i-3".to_owned()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !load.has_served("i-3") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "i-3 never took traffic"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Fast again: below 500 ms, the fleet goes back to its minimum, and
    // draining i-3 costs no request.
    set_latency(&stack, &["0s", "--all"]).await;
    wait_for(&stack, Duration::from_secs(40), "scale-in to 2", |s| {
        s["autoscaling"]["desired"] == 2 && s["instances"].as_array().unwrap().len() == 2
    })
    .await;
    let (served, failures) = load.finish().await;
    assert!(
        failures.is_empty(),
        "{} failed of {served}: {failures:?}",
        failures.len()
    );
    assert!(served > 100, "a real load ({served} requests)");

    // Auto-healing: an instance killed outright is replaced.
    let victim = stack.pid_of("i-2").await;
    // SAFETY: kill(2) with a pid from the stack's own status.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    wait_for(
        &stack,
        Duration::from_secs(40),
        "the replacement of i-2",
        |s| {
            let ids = healthy_instances(s);
            ids.len() == 2
                && s["instances"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|i| i["pid"].as_u64() != Some(u64::from(victim)))
        },
    )
    .await;

    let events = stack.infra(&["infra", "events"], &[]).await;
    let history = text(&events.stdout);
    for needle in [
        "alarm latency-high: ",
        "-> ALARM",
        "desired capacity 2 -> 3",
        "i-3 launched, healthy and in the load balancer",
        "desired capacity 3 -> 2",
        "i-3 drained and stopped",
        "failed the load balancer's health check",
    ] {
        assert!(history.contains(needle), "no {needle:?} in\n{history}");
    }
    let json = stack.infra(&["infra", "events", "--json"], &[]).await;
    for line in text(&json.stdout).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert!(event["at"].is_u64() && event["text"].is_string(), "{line}");
    }
    stack.down_and_check_nothing_is_left().await;
}
