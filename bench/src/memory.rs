//! Memory cases: what one instance holds idle, at the peak of a burst of
//! logins or uploads, and whether it gives the memory back afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::process::rss_mib;

/// The highest RSS seen while `work` runs, sampled every 10 ms.
pub async fn peak_during<F: std::future::Future>(pid: u32, work: F) -> (F::Output, f64) {
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_mib(pid).unwrap_or(0.0));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak.max(rss_mib(pid).unwrap_or(0.0))
        })
    };
    let output = work.await;
    done.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap_or(0.0);
    (output, peak)
}

/// How long RSS took to fall under `limit_mib` (None: not within `patience`),
/// and the last figure read.
pub async fn settle(pid: u32, limit_mib: f64, patience: Duration) -> (Option<Duration>, f64) {
    let started = Instant::now();
    loop {
        let now = rss_mib(pid).unwrap_or(f64::MAX);
        if now < limit_mib {
            return (Some(started.elapsed()), now);
        }
        if started.elapsed() >= patience {
            return (None, now);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
