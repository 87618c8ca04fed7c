//! Sessions in this instance's memory. Behind a load balancer this is the
//! classic failure on purpose: log in through one instance, and the next
//! request, sent to another, finds no session: "I keep getting logged out".

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::SessionState;

type Entries = HashMap<String, (SessionState, Instant)>;

#[derive(Clone, Default)]
pub struct MemorySessionStore {
    entries: Arc<Mutex<Entries>>,
}

impl MemorySessionStore {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn load(&self, key: &str) -> Option<SessionState> {
        let entries = self.entries();
        let (state, expires) = entries.get(key)?;
        (*expires > Instant::now()).then(|| state.clone())
    }

    pub fn store(&self, key: &str, state: SessionState, ttl: Duration) {
        let mut entries = self.entries();
        let now = Instant::now();
        entries.retain(|_, (_, expires)| *expires > now);
        entries.insert(key.to_owned(), (state, now + ttl));
    }

    pub fn touch(&self, key: &str, ttl: Duration) {
        if let Some((_, expires)) = self.entries().get_mut(key) {
            *expires = Instant::now() + ttl;
        }
    }

    pub fn remove(&self, key: &str) {
        self.entries().remove(key);
    }
}
