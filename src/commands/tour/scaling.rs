//! Level 3 of the tour: a load runs, latency is flipped on one instance,
//! the alarm fires and an instance is added; latency is flipped back and
//! the fleet shrinks; then an instance is killed and replaced. The timings
//! are the tutorial's shortened from minutes to seconds (alarm periods of
//! 3 s instead of 60 s, a cooldown of 8 s instead of 300 s).

use std::time::{Duration, Instant};

use super::outcome::Outcome;
use super::stack::{unix_ms, TourStack};
use crate::commands::loadtest::{self, Arrivals, Report};

/// `infra up` flags for levels 3 and 4 on the tour.
pub const FAST_SCALING: [&str; 10] = [
    "--alarm-period",
    "3s",
    "--cooldown",
    "8s",
    "--grace-period",
    "3s",
    "--max",
    "3",
    "--health-interval",
    "500ms",
];

/// The step's outcome, the load's report, and when the instance was added
/// (as an instant, for the tour's timing).
pub async fn level_3(stack: &TourStack) -> anyhow::Result<(Outcome, Report, Option<Instant>)> {
    let mut outcome = Outcome::new("level 3: the fleet scales itself on latency");
    stack.up(3, &FAST_SCALING).await?;
    println!("  a load of 12 clients for 36 s; i-1 slowed to 3 s at 4 s, every instance back to 0 at 20 s");
    let options = loadtest::Options {
        url: stack.url(),
        duration: Duration::from_secs(36),
        arrivals: Arrivals::Closed { concurrency: 12 },
        mix: "feed=85,photo=15".parse().map_err(anyhow::Error::msg)?,
        path: None,
        log_in: false,
        flips: vec![
            "4s:3s:i-1".parse().map_err(anyhow::Error::msg)?,
            "20s:0s:all".parse().map_err(anyhow::Error::msg)?,
        ],
        state_dir: stack.state_dir.clone(),
    };
    let load_started = Instant::now();
    let report = loadtest::run(&options).await?;
    let at = |needle: &str| {
        report
            .markers
            .iter()
            .find(|m| m.text.contains(needle))
            .map(|m| m.at_s)
    };
    let added = at("launched, healthy");
    outcome.check(
        added.is_some_and(|t| t < 20.0),
        match added {
            Some(t) => format!(
                "the latency alarm fired and a third instance took traffic {:.0} s into the run",
                t
            ),
            None => "no instance was added while i-1 was slow".into(),
        },
    );
    let removed = at("drained and stopped");
    outcome.check(
        removed.is_some_and(|t| t > 20.0),
        match removed {
            Some(t) => format!("latency back to normal, the fleet shrank again at {t:.0} s"),
            None => "the fleet did not shrink after the latency went back".into(),
        },
    );
    outcome.check(
        report.overall.error_count() == 0,
        format!(
            "{} requests, {} errors, p99 {:.0} ms",
            report.overall.requests,
            report.overall.error_count(),
            report.overall.p99_ms
        ),
    );
    kill_and_replace(stack, &mut outcome).await?;
    let added_at = added.map(|t| load_started + Duration::from_secs_f64(t));
    Ok((outcome, report, added_at))
}

/// SIGKILLs i-2 and waits for the autoscaler to replace it.
async fn kill_and_replace(stack: &TourStack, outcome: &mut Outcome) -> anyhow::Result<()> {
    let since = unix_ms();
    let started = Instant::now();
    let dir = stack.state_dir.clone();
    tokio::task::spawn_blocking(move || photoscale_infra::local::kill_instance(&dir, "i-2"))
        .await??;
    let mut replaced = None;
    while started.elapsed() < Duration::from_secs(40) {
        let events = stack.events_since(since);
        if events.iter().any(|e| e.contains("launched, healthy")) {
            replaced = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    outcome.check(
        replaced.is_some(),
        match replaced {
            Some(took) => format!(
                "i-2 was killed (SIGKILL); the load balancer marked it down and the autoscaler replaced it within {:.1} s",
                took.as_secs_f64()
            ),
            None => "a killed instance was not replaced within 40 s".into(),
        },
    );
    Ok(())
}
