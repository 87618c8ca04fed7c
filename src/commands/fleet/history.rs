//! The last ten minutes of the fleet, one sample a second.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

const KEEP: usize = 600;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    /// Unix milliseconds.
    pub at: u64,
    /// Average response time of the requests that finished in that second.
    pub average_ms: Option<f64>,
    /// The slowest 1 % of them start here (nearest rank).
    pub p99_ms: Option<f64>,
    pub requests: u32,
    pub in_service: usize,
}

#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    /// Records one second: the response times that arrived in it (ms).
    pub fn push(&mut self, mut times_ms: Vec<f64>, in_service: usize) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let requests = times_ms.len() as u32;
        let average_ms = (requests > 0).then(|| times_ms.iter().sum::<f64>() / f64::from(requests));
        times_ms.sort_by(f64::total_cmp);
        let p99_ms = (requests > 0).then(|| {
            let rank = ((times_ms.len() as f64 * 0.99).ceil() as usize).max(1);
            times_ms[rank - 1]
        });
        self.samples.push_back(Sample {
            at,
            average_ms,
            p99_ms,
            requests,
            in_service,
        });
        while self.samples.len() > KEEP {
            self.samples.pop_front();
        }
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.samples.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ten_minutes() {
        let mut history = History::default();
        for n in 0..(KEEP + 5) {
            history.push(vec![n as f64; n % 7], 2);
        }
        let samples = history.samples();
        assert_eq!(samples.len(), KEEP);
        assert_eq!(samples[0].requests, 5, "the oldest went first (5 % 7)");
        let last = samples.last().unwrap();
        assert_eq!(last.requests, ((KEEP + 4) % 7) as u32);
        assert_eq!(last.average_ms, Some((KEEP + 4) as f64));
    }

    #[test]
    fn each_second_has_its_average_and_p99() {
        let mut history = History::default();
        let mut times: Vec<f64> = (1..=100).map(f64::from).collect();
        times.reverse();
        history.push(times, 3);
        history.push(Vec::new(), 3);
        let samples = history.samples();
        assert_eq!(samples[0].requests, 100);
        assert_eq!(samples[0].average_ms, Some(50.5));
        assert_eq!(samples[0].p99_ms, Some(99.0));
        assert_eq!(samples[1].p99_ms, None, "no requests, no figure");
        assert_eq!(samples[1].requests, 0);
    }
}
