//! The feed cache in this instance's memory: fast, but each instance has its
//! own, so an upload through one instance is not seen by another's cache
//! until its entry expires. Entries are kept decoded, ready to serve.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::CachedFeed;

/// Entries by feed size, each with its expiry.
type Entries = HashMap<u32, (Arc<CachedFeed>, Instant)>;

#[derive(Debug, Default)]
pub struct MemoryCache {
    generation: AtomicU64,
    entries: Mutex<Entries>,
}

impl MemoryCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current generation and, if still fresh and of that generation,
    /// the entry for `size`.
    pub fn get(&self, size: u32) -> (u64, Option<Arc<CachedFeed>>) {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries();
        let feed = entries
            .get(&size)
            .filter(|(feed, expires)| *expires > Instant::now() && feed.generation == generation)
            .map(|(feed, _)| feed.clone());
        (generation, feed)
    }

    pub fn put(&self, size: u32, feed: Arc<CachedFeed>, ttl: Duration) {
        self.entries().insert(size, (feed, Instant::now() + ttl));
    }

    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
