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
    pub requests: u32,
    pub in_service: usize,
}

#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    pub fn push(&mut self, average_ms: Option<f64>, requests: u32, in_service: usize) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.samples.push_back(Sample {
            at,
            average_ms,
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
        for n in 0..(KEEP as u32 + 5) {
            history.push(Some(f64::from(n)), n, 2);
        }
        let samples = history.samples();
        assert_eq!(samples.len(), KEEP);
        assert_eq!(samples[0].requests, 5, "the oldest went first");
        assert_eq!(
            samples.last().unwrap().average_ms,
            Some(f64::from(KEEP as u32 + 4))
        );
    }
}
