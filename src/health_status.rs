//! The newest health check's result, which `/healthz` answers from (the
//! check itself, run in the background, is in health_check.rs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;

/// How old the newest check may be before the instance counts as unhealthy.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The result of one check.
#[derive(Debug)]
pub struct Snapshot {
    /// When the check began (not ended: a hung ping must not look recent).
    pub started: Instant,
    pub healthy: bool,
    /// The `/healthz` body for this check.
    pub body: Bytes,
}

#[derive(Debug)]
pub struct LatestHealth {
    latest: ArcSwap<Snapshot>,
}

impl LatestHealth {
    /// No check yet: unhealthy until the first one, which the app runs
    /// before it listens (`refresh`).
    pub fn not_yet() -> Self {
        let started = Instant::now()
            .checked_sub(FRESH_FOR * 2)
            .unwrap_or_else(Instant::now);
        Self {
            latest: ArcSwap::from_pointee(Snapshot {
                started,
                healthy: false,
                body: Bytes::new(),
            }),
        }
    }

    /// The newest check, if it is recent enough to answer with.
    pub fn current(&self) -> Result<Arc<Snapshot>, Arc<Snapshot>> {
        let latest = self.latest.load_full();
        if latest.started.elapsed() <= FRESH_FOR {
            Ok(latest)
        } else {
            Err(latest)
        }
    }

    /// Keeps a new check's result.
    pub fn store(&self, snapshot: Snapshot) {
        self.latest.store(Arc::new(snapshot));
    }
}
