//! The feed cache in this instance's memory: fast, but each instance has its
//! own, so an upload through one instance is not seen by another's cache
//! until its entry expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Value and expiry (`None`: never, for the generation counter).
type Entries = HashMap<String, (Vec<u8>, Option<Instant>)>;

#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: Mutex<Entries>,
}

impl MemoryCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let entries = self.entries();
        let (value, expires) = entries.get(key)?;
        match expires {
            Some(at) if *at <= Instant::now() => None,
            _ => Some(value.clone()),
        }
    }

    pub fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut entries = self.entries();
        let now = Instant::now();
        entries.retain(|_, (_, expires)| expires.is_none_or(|at| at > now));
        entries.insert(key.to_owned(), (value.to_vec(), Some(now + ttl)));
    }

    pub fn add_counter(&self, key: &str, value: u64) {
        self.entries()
            .entry(key.to_owned())
            .or_insert_with(|| (value.to_string().into_bytes(), None));
    }

    pub fn incr(&self, key: &str) -> Option<u64> {
        let mut entries = self.entries();
        let (value, _) = entries.get_mut(key)?;
        let next = std::str::from_utf8(value).ok()?.parse::<u64>().ok()? + 1;
        *value = next.to_string().into_bytes();
        Some(next)
    }
}
