//! How requests arrive: closed loop (each client sends its next request
//! when the last one ends) or open loop (requests fall due on a schedule,
//! whatever the server does, and their latency counts from when they were
//! due, so a slow server cannot hide its queue).
//!
//! Every finished request is recorded straight into the shared statistics
//! (a short lock), not sent to a collector task: a message per request
//! meant a thread wake-up per request, which a fast server made the load
//! test's own bottleneck.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tokio_util::task::TaskTracker;

use super::mix::{Kind, Mix};
use super::stats::{Sample, Stats};
use super::traffic::{Session, Site};

/// The statistics every request is recorded into.
pub type Recorder = Arc<Mutex<Stats>>;

fn record(stats: &Recorder, sample: Sample) {
    stats
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .record(&sample);
}

fn sample(
    result: Result<Option<String>, String>,
    kind: Kind,
    due: Instant,
    start: Instant,
) -> Sample {
    let (instance, error) = match result {
        Ok(instance) => (instance, None),
        Err(error) => (None, Some(error)),
    };
    Sample {
        finished: start.elapsed(),
        latency: due.elapsed(),
        kind,
        error,
        instance,
    }
}

/// One client per session, each sending its next request when the last
/// ends, on a connection of its own.
pub async fn closed_loop(
    site: Arc<Site>,
    mix: Mix,
    sessions: Vec<Session>,
    start: Instant,
    deadline: Instant,
    stats: Recorder,
) -> anyhow::Result<()> {
    let mut clients = Vec::new();
    for (n, session) in sessions.into_iter().enumerate() {
        let (site, mix, stats) = (site.clone(), mix.clone(), stats.clone());
        clients.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
            let mut connection = None;
            while Instant::now() < deadline {
                let kind = mix.pick(&mut rng);
                let sent = Instant::now();
                let result = site
                    .perform(&session, &mut connection, kind, rng.gen())
                    .await;
                record(&stats, sample(result, kind, sent, start));
            }
        }));
    }
    for client in clients {
        client.await?;
    }
    Ok(())
}

/// Senders the open loop starts with, each with a connection of its own.
const FIRST_SENDERS: usize = 16;
/// Senders it may grow to: enough for a slow server (3 s answers at 300 a
/// second). Should every one be busy, the requests that fall due meanwhile
/// wait, and that wait counts in their latency.
const MAX_SENDERS: usize = 1024;
/// A sender that starts a request this late starts another sender: the
/// ones running are not enough for the rate (so they grow with the need,
/// without a storm of connections at the start).
const LATE: Duration = Duration::from_millis(2);

/// What every sender of one open-loop run shares.
struct Schedule {
    site: Arc<Site>,
    mix: Mix,
    sessions: Vec<Session>,
    stats: Recorder,
    start: Instant,
    deadline: Instant,
    interval: Duration,
    /// The number of the next request to send.
    next: AtomicU64,
    senders: AtomicUsize,
    tracker: TaskTracker,
}

/// `rate` requests a second, each due at its own time whatever the server
/// does. Senders take the next due request in turn (request n is due
/// n/rate seconds in), wait for its time, send it and record its latency
/// from then, for one of the sessions in turn. (A task per request, as
/// before, cost the load test more than the server it measured.)
pub async fn open_loop(
    site: Arc<Site>,
    mix: Mix,
    rate: u32,
    sessions: Vec<Session>,
    start: Instant,
    deadline: Instant,
    stats: Recorder,
) -> anyhow::Result<()> {
    let schedule = Arc::new(Schedule {
        site,
        mix,
        sessions,
        stats,
        start,
        deadline,
        interval: Duration::from_secs_f64(1.0 / f64::from(rate.max(1))),
        next: AtomicU64::new(0),
        senders: AtomicUsize::new(0),
        tracker: TaskTracker::new(),
    });
    for _ in 0..FIRST_SENDERS {
        start_sender(&schedule);
    }
    schedule.tracker.close();
    schedule.tracker.wait().await;
    Ok(())
}

fn start_sender(schedule: &Arc<Schedule>) {
    let n = schedule.senders.fetch_add(1, Ordering::Relaxed);
    let schedule = schedule.clone();
    let tracker = schedule.tracker.clone();
    tracker.spawn(async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
        let mut connection = None;
        loop {
            let n = schedule.next.fetch_add(1, Ordering::Relaxed);
            let due = schedule.start + schedule.interval.mul_f64(n as f64);
            if due >= schedule.deadline {
                return;
            }
            let late = Instant::now().saturating_duration_since(due);
            if late > LATE && schedule.senders.load(Ordering::Relaxed) < MAX_SENDERS {
                start_sender(&schedule);
            }
            tokio::time::sleep_until(due.into()).await;
            let session = &schedule.sessions[n as usize % schedule.sessions.len()];
            let kind = schedule.mix.pick(&mut rng);
            let result = schedule
                .site
                .perform(session, &mut connection, kind, rng.gen())
                .await;
            record(&schedule.stats, sample(result, kind, due, schedule.start));
        }
    });
}
