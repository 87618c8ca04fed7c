//! What the load test measured: per second and overall, an HDR histogram of
//! latencies, errors by kind and the share of requests each instance served.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::mix::Kind;

/// One finished request.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it finished, from the start of the run.
    pub finished: Duration,
    pub latency: Duration,
    pub kind: Kind,
    /// None when it succeeded; otherwise the kind of error ("http 503", "timeout", ...).
    pub error: Option<String>,
    /// The `X-Instance-Id` that answered, if any.
    pub instance: Option<String>,
}

#[derive(Debug, Clone)]
struct Bucket {
    latencies_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    by_instance: BTreeMap<String, u64>,
}

impl Bucket {
    fn new() -> Self {
        Self {
            // 1 µs to 10 minutes, 3 significant digits.
            latencies_us: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"),
            errors: BTreeMap::new(),
            by_instance: BTreeMap::new(),
        }
    }

    fn record(&mut self, sample: &Sample) {
        let us = (sample.latency.as_micros() as u64).clamp(1, 600_000_000);
        self.latencies_us.record(us).expect("clamped into bounds");
        if let Some(error) = &sample.error {
            count(&mut self.errors, error);
        }
        if let Some(instance) = &sample.instance {
            count(&mut self.by_instance, instance);
        }
    }

    fn summary(&self, seconds: f64) -> Summary {
        let h = &self.latencies_us;
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        let requests = h.len();
        Summary {
            requests,
            per_second: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            max_ms: h.max() as f64 / 1000.0,
            errors: self.errors.clone(),
            by_instance: self.by_instance.clone(),
        }
    }
}

/// Adds one to `key`'s count, copying the key only the first time.
fn count(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_owned(), 1);
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
    pub by_instance: BTreeMap<String, u64>,
}

impl Summary {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Everything recorded, second by second.
pub struct Stats {
    seconds: Vec<Bucket>,
    overall: Bucket,
    by_kind: BTreeMap<Kind, u64>,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            seconds: Vec::new(),
            overall: Bucket::new(),
            by_kind: BTreeMap::new(),
        }
    }

    pub fn record(&mut self, sample: &Sample) {
        let second = sample.finished.as_secs() as usize;
        while self.seconds.len() <= second {
            self.seconds.push(Bucket::new());
        }
        self.seconds[second].record(sample);
        self.overall.record(sample);
        *self.by_kind.entry(sample.kind).or_default() += 1;
    }

    /// One summary per second of the run.
    pub fn per_second(&self) -> Vec<Summary> {
        self.seconds.iter().map(|b| b.summary(1.0)).collect()
    }

    pub fn overall(&self, run: Duration) -> Summary {
        self.overall.summary(run.as_secs_f64())
    }

    pub fn by_kind(&self) -> BTreeMap<Kind, u64> {
        self.by_kind.clone()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(finished_ms: u64, latency_ms: u64, error: Option<&str>, instance: &str) -> Sample {
        Sample {
            finished: Duration::from_millis(finished_ms),
            latency: Duration::from_millis(latency_ms),
            kind: Kind::Feed,
            error: error.map(str::to_owned),
            instance: Some(instance.to_owned()),
        }
    }

    #[test]
    fn seconds_and_overall_are_summarised() {
        let mut stats = Stats::new();
        for i in 0..100 {
            stats.record(&sample(100 + i, 10, None, "i-1"));
        }
        stats.record(&sample(1_500, 3_000, None, "i-2"));
        stats.record(&sample(1_600, 20, Some("http 503"), "i-2"));
        let seconds = stats.per_second();
        assert_eq!(seconds.len(), 2);
        assert_eq!(seconds[0].requests, 100);
        assert!((seconds[0].p50_ms - 10.0).abs() < 0.1);
        assert!((seconds[1].max_ms - 3000.0).abs() < 5.0);
        assert_eq!(seconds[1].errors["http 503"], 1);
        let overall = stats.overall(Duration::from_secs(2));
        assert_eq!(overall.requests, 102);
        assert_eq!(overall.per_second, 51.0);
        assert_eq!(overall.error_count(), 1);
        assert_eq!(overall.by_instance["i-1"], 100);
    }
}
