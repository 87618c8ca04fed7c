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

/// The longest latency recorded: the client's timeout (a request that
/// takes longer has already failed as a timeout), with room to spare.
const MAX_LATENCY_US: u64 = (super::traffic::TIMEOUT.as_secs() + 5) * 1_000_000;

/// A latency histogram from 1 µs to `MAX_LATENCY_US`. Overall figures keep
/// three significant digits; each second's two (1 %), which is about 9 KB
/// a histogram instead of the 170 KB that three digits up to ten minutes took.
#[derive(Debug, Clone)]
struct Latencies(Histogram<u32>);

impl Latencies {
    fn new(digits: u8) -> Self {
        Self(Histogram::new_with_bounds(1, MAX_LATENCY_US, digits).expect("valid bounds"))
    }

    fn record(&mut self, latency: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, MAX_LATENCY_US);
        // Saturates at u32::MAX per value, far beyond a second's requests.
        self.0.saturating_record(us);
    }

    fn figures(&self) -> KindSummary {
        let ms = |q: f64| self.0.value_at_quantile(q) as f64 / 1000.0;
        KindSummary {
            requests: self.0.len(),
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            max_ms: self.0.max() as f64 / 1000.0,
        }
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    digits: u8,
    latencies: Latencies,
    /// Each request kind's own latencies, made on its first request.
    by_kind: BTreeMap<Kind, Latencies>,
    errors: BTreeMap<String, u64>,
    by_instance: BTreeMap<String, u64>,
}

impl Bucket {
    fn new(digits: u8) -> Self {
        Self {
            digits,
            latencies: Latencies::new(digits),
            by_kind: BTreeMap::new(),
            errors: BTreeMap::new(),
            by_instance: BTreeMap::new(),
        }
    }

    fn record(&mut self, sample: &Sample) {
        self.latencies.record(sample.latency);
        let digits = self.digits;
        self.by_kind
            .entry(sample.kind)
            .or_insert_with(|| Latencies::new(digits))
            .record(sample.latency);
        if let Some(error) = &sample.error {
            count(&mut self.errors, error);
        }
        if let Some(instance) = &sample.instance {
            count(&mut self.by_instance, instance);
        }
    }

    fn summary(&self, seconds: f64) -> Summary {
        let all = self.latencies.figures();
        Summary {
            requests: all.requests,
            per_second: if seconds > 0.0 {
                all.requests as f64 / seconds
            } else {
                0.0
            },
            p50_ms: all.p50_ms,
            p90_ms: all.p90_ms,
            p99_ms: all.p99_ms,
            max_ms: all.max_ms,
            by_kind: self
                .by_kind
                .iter()
                .map(|(kind, l)| (kind.name().to_owned(), l.figures()))
                .collect(),
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
    /// The same figures for each request kind (feed, photo, login, upload).
    pub by_kind: BTreeMap<String, KindSummary>,
    pub errors: BTreeMap<String, u64>,
    pub by_instance: BTreeMap<String, u64>,
}

/// One request kind's count and latency.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindSummary {
    pub requests: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
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
            overall: Bucket::new(3),
            by_kind: BTreeMap::new(),
        }
    }

    pub fn record(&mut self, sample: &Sample) {
        let second = sample.finished.as_secs() as usize;
        while self.seconds.len() <= second {
            self.seconds.push(Bucket::new(2));
        }
        self.seconds[second].record(sample);
        self.overall.record(sample);
        *self.by_kind.entry(sample.kind).or_default() += 1;
    }

    /// Second `n` of the run so far, for the live line.
    pub fn second(&self, n: usize) -> Option<Summary> {
        self.seconds.get(n).map(|b| b.summary(1.0))
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
            kind: if latency_ms >= 1000 {
                Kind::Upload
            } else {
                Kind::Feed
            },
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
        assert!(
            (seconds[0].p50_ms - 10.0).abs() <= 0.1,
            "{}",
            seconds[0].p50_ms
        );
        // Each second keeps two significant digits: within 1 %.
        assert!(
            (seconds[1].max_ms - 3000.0).abs() <= 30.0,
            "{}",
            seconds[1].max_ms
        );
        assert_eq!(seconds[1].errors["http 503"], 1);
        let overall = stats.overall(Duration::from_secs(2));
        assert_eq!(overall.requests, 102);
        assert_eq!(overall.per_second, 51.0);
        assert_eq!(overall.error_count(), 1);
        assert_eq!(overall.by_instance["i-1"], 100);
        assert_eq!(overall.by_kind["feed"].requests, 101);
        assert!((overall.by_kind["feed"].p99_ms - 10.0).abs() < 0.1);
        assert!((overall.by_kind["feed"].max_ms - 20.0).abs() < 0.1);
        assert_eq!(overall.by_kind["upload"].requests, 1);
        assert!((overall.by_kind["upload"].p50_ms - 3000.0).abs() < 5.0);
        assert_eq!(
            seconds[0].by_kind.len(),
            1,
            "only feeds in the first second"
        );
    }

    #[test]
    fn a_latency_past_the_timeout_is_kept_at_the_top_not_lost() {
        let mut stats = Stats::new();
        stats.record(&sample(100, 3_600_000, Some("timeout"), "i-1"));
        let overall = stats.overall(Duration::from_secs(1));
        assert_eq!(overall.requests, 1);
        assert!(overall.max_ms >= 30_000.0, "{}", overall.max_ms);
    }
}
