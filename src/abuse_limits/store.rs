//! Where the counts live: the store the fleet shares, so that every instance
//! counts together (a client cannot spread its guesses over the fleet). The
//! session store when it is memcached or Redis, else the feed cache's server,
//! else this instance's memory.
//!
//! Two kinds of entry: a count (`...:n`, expires a window after its first
//! increase) and a "wait until" time (`...:until`, Unix seconds, expires
//! then).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use deadpool_redis::redis;

use crate::memcached::Memcached;
use crate::redis_connection::RedisConnection;

#[derive(Debug, thiserror::Error)]
#[error("the limits store failed: {0}")]
pub struct StoreError(String);

pub enum CounterStore {
    Memory(MemoryCounters),
    Memcached(Memcached),
    Redis(Box<RedisConnection>),
}

impl CounterStore {
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Memcached(_) => "memcached",
            Self::Redis(_) => "redis",
        }
    }

    /// Adds one to the count at `key` (created with `ttl`); the new count.
    pub async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.increment(key, ttl)),
            Self::Memcached(m) => {
                for _ in 0..3 {
                    if let Some(n) = m.incr(key).await.map_err(failed)? {
                        return Ok(n);
                    }
                    if m.add(key, b"1", ttl).await.map_err(failed)? {
                        return Ok(1);
                    }
                    // Another instance created it between the two: count again.
                }
                Err(StoreError("the count kept vanishing".into()))
            }
            Self::Redis(r) => {
                let seconds = ttl.as_secs().max(1);
                r.run(async |c| {
                    let (_, n): (Option<String>, u64) = redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg(key)
                        .arg(0)
                        .arg("EX")
                        .arg(seconds)
                        .arg("NX")
                        .cmd("INCR")
                        .arg(key)
                        .query_async(c)
                        .await?;
                    Ok(n)
                })
                .await
                .map_err(failed)
            }
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.get(key)),
            Self::Memcached(m) => Ok(m.get(key).await.map_err(failed)?.and_then(parse)),
            Self::Redis(r) => r
                .run(async |c| {
                    redis::cmd("GET")
                        .arg(key)
                        .query_async::<Option<String>>(c)
                        .await
                })
                .await
                .map(|v| v.and_then(|v| v.parse().ok()))
                .map_err(failed),
        }
    }

    pub async fn set(&self, key: &str, value: u64, ttl: Duration) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
            Self::Memcached(m) => m
                .set(key, value.to_string().as_bytes(), ttl)
                .await
                .map_err(failed),
            Self::Redis(r) => {
                let seconds = ttl.as_secs().max(1);
                r.run(async |c| {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("EX")
                        .arg(seconds)
                        .query_async::<()>(c)
                        .await
                })
                .await
                .map_err(failed)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::Memory(m) => {
                m.delete(key);
                Ok(())
            }
            Self::Memcached(m) => m.delete(key).await.map_err(failed),
            Self::Redis(r) => r
                .run(async |c| redis::cmd("DEL").arg(key).query_async::<()>(c).await)
                .await
                .map_err(failed),
        }
    }
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn parse(bytes: Vec<u8>) -> Option<u64> {
    std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
}

/// Counts in this instance's memory: bounded (the least recently used go
/// first when full) and expired when read, never by scanning.
pub struct MemoryCounters {
    entries: Mutex<lru::LruCache<String, (u64, Instant)>>,
}

impl MemoryCounters {
    pub fn new(capacity: usize) -> Self {
        let capacity = std::num::NonZeroUsize::new(capacity.max(1)).expect("at least one");
        Self {
            entries: Mutex::new(lru::LruCache::new(capacity)),
        }
    }

    fn live(entries: &mut lru::LruCache<String, (u64, Instant)>, key: &str) -> Option<u64> {
        match entries.get(key) {
            Some(&(value, expires)) if expires > Instant::now() => Some(value),
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    fn increment(&self, key: &str, ttl: Duration) -> u64 {
        let mut entries = self.entries.lock().expect("counters lock");
        match Self::live(&mut entries, key) {
            Some(n) => {
                let entry = entries.get_mut(key).expect("just read");
                entry.0 = n + 1;
                n + 1
            }
            None => {
                entries.put(key.to_owned(), (1, Instant::now() + ttl));
                1
            }
        }
    }

    fn get(&self, key: &str) -> Option<u64> {
        let mut entries = self.entries.lock().expect("counters lock");
        Self::live(&mut entries, key)
    }

    fn set(&self, key: &str, value: u64, ttl: Duration) {
        let mut entries = self.entries.lock().expect("counters lock");
        entries.put(key.to_owned(), (value, Instant::now() + ttl));
    }

    fn delete(&self, key: &str) {
        self.entries.lock().expect("counters lock").pop(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counts_expire_and_stay_bounded() {
        let store = CounterStore::Memory(MemoryCounters::new(2));
        let ttl = Duration::from_millis(200);
        assert_eq!(store.increment("a", ttl).await.unwrap(), 1);
        assert_eq!(store.increment("a", ttl).await.unwrap(), 2);
        store.set("b", 7, ttl).await.unwrap();
        store.set("c", 8, ttl).await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None, "the oldest went first");
        assert_eq!(store.get("c").await.unwrap(), Some(8));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(store.get("c").await.unwrap(), None, "expired");
        assert_eq!(store.increment("c", ttl).await.unwrap(), 1, "counts afresh");
    }
}
