//! Sessions in this instance's memory. Behind a load balancer this is the
//! classic failure on purpose: log in through one instance, and the next
//! request, sent to another, finds no session: "I keep getting logged out".
//!
//! Bounded: at most `CAPACITY` sessions, the least recently used going
//! first when full; an expired one is dropped when it is next read, so no
//! write ever scans the whole store.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lru::LruCache;

use super::SessionState;

/// A few hundred bytes each: at most some tens of megabytes.
pub const CAPACITY: usize = 100_000;

type Entries = LruCache<String, (SessionState, Instant)>;

#[derive(Clone)]
pub struct MemorySessionStore {
    entries: Arc<Mutex<Entries>>,
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl MemorySessionStore {
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity.max(1)).expect("at least one");
        Self {
            entries: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn load(&self, key: &str) -> Option<SessionState> {
        let mut entries = self.entries();
        let (state, expires) = entries.get(key)?;
        if *expires > Instant::now() {
            return Some(state.clone());
        }
        entries.pop(key);
        None
    }

    pub fn store(&self, key: &str, state: SessionState, ttl: Duration) {
        self.entries()
            .put(key.to_owned(), (state, Instant::now() + ttl));
    }

    pub fn touch(&self, key: &str, ttl: Duration) {
        if let Some((_, expires)) = self.entries().get_mut(key) {
            *expires = Instant::now() + ttl;
        }
    }

    pub fn remove(&self, key: &str) {
        self.entries().pop(key);
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expired_on_read() {
        let store = MemorySessionStore::with_capacity(2);
        let ttl = Duration::from_secs(60);
        for key in ["a", "b", "c"] {
            store.store(key, SessionState::new(), ttl);
        }
        assert_eq!(store.len(), 2, "the least recently used went");
        assert!(store.load("a").is_none());
        store.store("short", SessionState::new(), Duration::ZERO);
        assert!(store.load("short").is_none(), "expired");
        assert_eq!(store.len(), 1, "and dropped when read");
    }
}
