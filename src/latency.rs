//! The simulated latency (the classic demo's `$latency`): a value shared by all
//! workers that can change while the server runs, without a restart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct SimulatedLatency(Arc<AtomicU64>);

impl SimulatedLatency {
    pub fn new(initial: Duration) -> Self {
        let latency = Self::default();
        latency.set(initial);
        latency
    }

    pub fn get(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Relaxed))
    }

    pub fn set(&self, value: Duration) {
        let millis = u64::try_from(value.as_millis()).unwrap_or(u64::MAX);
        self.0.store(millis, Ordering::Relaxed);
    }

    /// Waits for the configured latency without blocking the worker thread.
    pub async fn apply(&self) {
        let delay = self.get();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_value() {
        let a = SimulatedLatency::new(Duration::from_millis(5));
        let b = a.clone();
        b.set(Duration::from_secs(2));
        assert_eq!(a.get(), Duration::from_secs(2));
    }
}
