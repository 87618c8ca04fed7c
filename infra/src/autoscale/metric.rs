//! The load balancer's response time, cut into periods: what CloudWatch's
//! `TargetResponseTime` (ALB) or `Latency` (ELB) is, with the `Average`
//! statistic. Each completed request adds one sample; a period without
//! requests has no datapoint at all (not a zero).

use std::collections::BTreeMap;

/// Milliseconds since some fixed start (a fake clock in tests).
pub type Millis = u64;

#[derive(Debug, Clone, Default)]
struct Bucket {
    count: u64,
    total_ms: f64,
}

/// Samples grouped by period.
#[derive(Debug, Clone)]
pub struct ResponseTimes {
    period_ms: Millis,
    buckets: BTreeMap<u64, Bucket>,
}

impl ResponseTimes {
    pub fn new(period_ms: Millis) -> Self {
        Self {
            period_ms: period_ms.max(1),
            buckets: BTreeMap::new(),
        }
    }

    /// One request that completed at `at` and took `response_ms`.
    pub fn record(&mut self, at: Millis, response_ms: f64) {
        let bucket = self.buckets.entry(at / self.period_ms).or_default();
        bucket.count += 1;
        bucket.total_ms += response_ms;
    }

    /// The index of the period `at` falls in.
    pub fn period_of(&self, at: Millis) -> u64 {
        at / self.period_ms
    }

    /// Average response time of each of the `n` periods that ended last
    /// before `now`, oldest first; None for a period without requests.
    pub fn last_complete(&self, now: Millis, n: u32) -> Vec<Option<f64>> {
        let current = self.period_of(now);
        (1..=u64::from(n))
            .rev()
            .map(|back| {
                let period = current.checked_sub(back)?;
                let bucket = self.buckets.get(&period)?;
                Some(bucket.total_ms / bucket.count as f64)
            })
            .collect()
    }

    /// Drops periods older than `keep` periods before `now`.
    pub fn forget_before(&mut self, now: Millis, keep: u32) {
        let oldest = self.period_of(now).saturating_sub(u64::from(keep));
        self.buckets = self.buckets.split_off(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_per_period_with_gaps_as_missing_data() {
        let mut times = ResponseTimes::new(1_000);
        times.record(100, 200.0);
        times.record(900, 400.0);
        // nothing in [1000, 2000)
        times.record(2_500, 1_500.0);
        assert_eq!(
            times.last_complete(3_000, 3),
            vec![Some(300.0), None, Some(1_500.0)]
        );
        // The current period (3000..) is not complete, so it is not used.
        times.record(3_100, 9_999.0);
        assert_eq!(times.last_complete(3_500, 1), vec![Some(1_500.0)]);
        // Before the first period there is nothing.
        assert_eq!(times.last_complete(500, 2), vec![None, None]);
    }

    #[test]
    fn old_periods_are_forgotten() {
        let mut times = ResponseTimes::new(1_000);
        times.record(100, 1.0);
        times.record(5_100, 2.0);
        times.forget_before(6_000, 2);
        assert_eq!(
            times.last_complete(6_000, 6),
            vec![None, None, None, None, None, Some(2.0)]
        );
    }
}
