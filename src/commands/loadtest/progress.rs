//! The live line: once a second while the load runs, on stderr (stdout
//! stays the report), the second that just ended: a bar for the run so
//! far, requests, p50 and p99, errors and the instances in service.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::stats::{Stats, Summary};

/// Prints a line after each full second until `deadline`.
pub async fn show_each_second(
    stats: Arc<Mutex<Stats>>,
    instances: tokio::sync::watch::Receiver<Option<u32>>,
    start: Instant,
    deadline: Instant,
) {
    let total = deadline.duration_since(start).as_secs().max(1);
    for second in 1..=total {
        tokio::time::sleep_until((start + Duration::from_secs(second)).into()).await;
        let summary = stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .second(second as usize - 1);
        let instances = instances.borrow().map(|n| n as usize);
        eprintln!("{}", line(second, total, summary.as_ref(), instances));
    }
}

/// `[  12/60 s] ####.......  1234 req/s  p50 1.2 ms  p99 12.3 ms  0 errors  3 instances`
pub fn line(
    second: u64,
    total: u64,
    summary: Option<&Summary>,
    instances: Option<usize>,
) -> String {
    const WIDTH: u64 = 20;
    let done = (second * WIDTH / total.max(1)).min(WIDTH) as usize;
    let bar = format!("{}{}", "#".repeat(done), ".".repeat(WIDTH as usize - done));
    let figures = match summary {
        Some(s) => format!(
            "{:>6} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  {} errors",
            s.requests,
            s.p50_ms,
            s.p99_ms,
            s.error_count()
        ),
        None => format!("{:>6} req/s", 0),
    };
    let instances = instances.map_or(String::new(), |n| format!("  {n} instances"));
    format!("[{second:>4}/{total} s] {bar}  {figures}{instances}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_run_so_far_and_the_last_second() {
        let mut stats = Stats::new();
        stats.record(&super::super::stats::Sample {
            finished: Duration::from_millis(500),
            latency: Duration::from_millis(12),
            kind: super::super::mix::Kind::Feed,
            error: None,
            instance: None,
        });
        let text = line(5, 20, stats.second(0).as_ref(), Some(3));
        assert!(
            text.starts_with("[   5/20 s] #####..............."),
            "{text}"
        );
        assert!(text.contains("     1 req/s"), "{text}");
        assert!(text.contains("p99    12.0 ms"), "{text}");
        assert!(text.contains("0 errors  3 instances"), "{text}");
        let quiet = line(20, 20, None, None);
        assert!(quiet.contains("####################"), "{quiet}");
    }
}
