//! `photoscale tour --auto` from start to end on this machine: every step
//! behaves as expected, the report says so, the fleet view follows the
//! tour's steps, and nothing is left running.

use std::time::{Duration, Instant};

use super::stack::{text, Stack};

#[tokio::test]
async fn the_tour_walks_the_whole_ladder_and_reports_it() {
    let stack = Stack::unstarted();
    let out = tempfile::tempdir().unwrap();
    let mut tour = tokio::process::Command::new(env!("CARGO_BIN_EXE_photoscale"))
        .args(["tour", "--auto", "--port", &stack.port.to_string()])
        .arg("--state-dir")
        .arg(stack.state_dir.path())
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = tour.stdout.take().unwrap();
    let stderr = tour.stderr.take().unwrap();
    let read_all = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut pipe, &mut text).await;
            text
        })
    };
    let stdout = read_all(Box::new(stdout));
    let stderr = read_all(Box::new(stderr));

    // The fleet view, for the whole tour, says which step it is on.
    let fleet = format!("http://127.0.0.1:{}/fleet.json", stack.port + 15);
    let client = reqwest::Client::new();
    let mut steps_seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(400);
    let status = loop {
        if let Some(status) = tour.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the tour took over 400 s");
        if let Ok(response) = client.get(&fleet).send().await {
            if let Ok(json) = response.json::<serde_json::Value>().await {
                if let Some(step) = json["tour"].as_str() {
                    steps_seen.insert(step.to_owned());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let said = format!(
        "{}{}",
        text(&stdout.await.unwrap()),
        text(&stderr.await.unwrap())
    );
    assert!(status.success(), "{said}");

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["all_as_expected"], true, "{summary:#}");
    let steps = summary["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6, "{summary:#}");
    for step in steps {
        assert_eq!(step["as_expected"], true, "{step:#}");
        assert!(!step["shown"].as_array().unwrap().is_empty(), "{step:#}");
    }
    let broken = steps[1]["shown"].to_string();
    assert!(
        broken.contains("a stranger's on"),
        "the failure is shown: {broken}"
    );
    assert!(summary["scale_out_after_s"].as_f64().is_some());
    let html = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(html.contains("<svg"), "the level-3 load's charts");
    assert!(
        steps_seen.iter().any(|s| s.contains("step 5 of 6")),
        "the fleet view showed the tour's step: {steps_seen:?}"
    );
    assert!(
        said.contains("Stopping everything the tour started"),
        "{said}"
    );
    let state = stack.state_dir.path();
    assert!(
        !state.join("stack.json").exists(),
        "down --purge took the stack away"
    );
}
