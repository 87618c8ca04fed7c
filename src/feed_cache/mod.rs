//! The read-through cache of the front page's feed: `none`, per-instance
//! `memory`, `memcached` or `redis`, each backend in its own file.
//!
//! Invalidation uses a generation number rather than deleting the entry: an
//! upload bumps `feed:generation`, and each entry records the generation it
//! was read in. An entry counts only while its generation is the current
//! one, so a reader that fetched the old feed from the database just before
//! an upload can only store an entry nobody will use, and the uploader's
//! next page view is never stale.
//!
//! A hit costs one round trip: the counter and the entry are fetched
//! together (memcached's multi-get, Redis's MGET), and an entry is decoded
//! only when its bytes differ from the last one this instance decoded.
//!
//! The cache is an optimisation, never a dependency: any error or a reply
//! slower than `cache.timeout` falls back to the database, logged once per
//! incident.

mod health;
mod memcached;
mod memory;
mod redis;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::configuration::{CacheBackend, CacheSettings};
use crate::db::{now_millis, PhotoRecord};
use health::CacheHealth;

const GENERATION_KEY: &str = "photoscale:feed:generation";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(String);

/// What the cache holds for one feed size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedFeed {
    /// The generation the photos were read in.
    pub generation: u64,
    pub stored_at_ms: i64,
    pub photos: Vec<PhotoRecord>,
}

/// What one look-up found: the current generation (to store a fresh read
/// under) and the entry, if it belongs to that generation.
#[derive(Debug, Default)]
pub struct Lookup {
    pub generation: Option<u64>,
    pub feed: Option<Arc<CachedFeed>>,
}

#[derive(Debug)]
enum Backend {
    None,
    Memory(memory::MemoryCache),
    Memcached(memcached::MemcachedCache),
    /// Boxed: the client and its connection are much larger than the rest.
    Redis(Box<redis::RedisCache>),
}

#[derive(Debug)]
pub struct FeedCache {
    backend: Backend,
    ttl: Duration,
    health: CacheHealth,
    /// Set when an invalidation could not reach the cache: until then (one
    /// TTL later, when any stale entry has expired) this instance bypasses it.
    bypass_until_ms: AtomicI64,
    /// The last entry decoded from a shared cache, by its bytes.
    last_decoded: Mutex<Option<(Vec<u8>, Arc<CachedFeed>)>>,
}

impl FeedCache {
    pub fn from_settings(settings: &CacheSettings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let url = settings.url.as_ref().map(|u| u.expose_secret().to_owned());
        let url = url.unwrap_or_default();
        let backend = match settings.backend {
            CacheBackend::None => Backend::None,
            CacheBackend::Memory => Backend::Memory(memory::MemoryCache::default()),
            CacheBackend::Memcached => {
                Backend::Memcached(memcached::MemcachedCache::new(&url, settings.timeout)?)
            }
            CacheBackend::Redis => {
                Backend::Redis(Box::new(redis::RedisCache::new(&url, settings.timeout)?))
            }
        };
        Ok(Self {
            backend,
            ttl: settings.ttl,
            health: CacheHealth::default(),
            bypass_until_ms: AtomicI64::new(0),
            last_decoded: Mutex::new(None),
        })
    }

    pub fn is_enabled(&self) -> bool {
        !matches!(self.backend, Backend::None)
    }

    /// True after the last call to the cache failed.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    pub fn describe(&self) -> &'static str {
        match self.backend {
            Backend::None => "none",
            Backend::Memory(_) => "memory (this instance only)",
            Backend::Memcached(_) => "memcached",
            Backend::Redis(_) => "redis",
        }
    }

    /// The feed of `size` photos for the current generation, if cached.
    pub async fn get(&self, size: u32) -> Lookup {
        if !self.is_enabled() || now_millis() < self.bypass_until_ms.load(Ordering::Relaxed) {
            return Lookup::default();
        }
        if let Backend::Memory(memory) = &self.backend {
            let (generation, feed) = memory.get(size);
            return Lookup {
                generation: Some(generation),
                feed,
            };
        }
        let Some((counter, entry)) = self.health.observe(self.remote_get(size)).await else {
            return Lookup::default();
        };
        let generation = match counter {
            Some(generation) => generation,
            None => match self.health.observe(self.start_counter()).await {
                Some(generation) => generation,
                None => return Lookup::default(),
            },
        };
        let feed = entry
            .and_then(|bytes| self.decode(bytes))
            .filter(|feed| feed.generation == generation);
        Lookup {
            generation: Some(generation),
            feed,
        }
    }

    /// Stores a feed read from the database under the generation it was read in.
    pub async fn put(&self, generation: Option<u64>, size: u32, photos: &[PhotoRecord]) {
        let Some(generation) = generation else { return };
        let feed = CachedFeed {
            generation,
            stored_at_ms: now_millis(),
            photos: photos.to_vec(),
        };
        match &self.backend {
            Backend::None => {}
            Backend::Memory(memory) => memory.put(size, Arc::new(feed), self.ttl),
            Backend::Memcached(_) | Backend::Redis(_) => {
                let Ok(bytes) = serde_json::to_vec(&feed) else {
                    return;
                };
                let key = entry_key(size);
                self.health.observe(self.remote_set(&key, &bytes)).await;
            }
        }
    }

    /// After an upload: every cached feed is out of date.
    pub async fn invalidate(&self) {
        let bumped = match &self.backend {
            Backend::None => return,
            Backend::Memory(memory) => {
                memory.bump();
                true
            }
            Backend::Memcached(_) | Backend::Redis(_) => {
                self.health.observe(self.bump_counter()).await.is_some()
            }
        };
        if !bumped {
            let until = now_millis() + self.ttl.as_millis() as i64;
            self.bypass_until_ms.store(until, Ordering::Relaxed);
        }
    }

    /// The entry behind `bytes`, decoded once per distinct entry.
    fn decode(&self, bytes: Vec<u8>) -> Option<Arc<CachedFeed>> {
        let mut last = self
            .last_decoded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((seen, feed)) = last.as_ref() {
            if *seen == bytes {
                return Some(feed.clone());
            }
        }
        let feed = Arc::new(serde_json::from_slice::<CachedFeed>(&bytes).ok()?);
        *last = Some((bytes, feed.clone()));
        Some(feed)
    }

    /// The generation counter and the entry, in one round trip.
    async fn remote_get(&self, size: u32) -> Result<(Option<u64>, Option<Vec<u8>>), CacheError> {
        let key = entry_key(size);
        let (counter, entry) = match &self.backend {
            Backend::Memcached(c) => c.get_two(GENERATION_KEY, &key).await?,
            Backend::Redis(c) => c.get_two(GENERATION_KEY, &key).await?,
            Backend::None | Backend::Memory(_) => (None, None),
        };
        let counter = counter.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok());
        Ok((counter, entry))
    }

    async fn remote_set(&self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memcached(c) => c.set(key, value, self.ttl).await,
            Backend::Redis(c) => c.set(key, value, self.ttl).await,
            Backend::None | Backend::Memory(_) => Ok(()),
        }
    }

    /// No counter yet (first use, or evicted): start it from the clock,
    /// which is above any generation handed out before, then read the winner.
    async fn start_counter(&self) -> Result<u64, CacheError> {
        let start = now_millis().to_string();
        let current = match &self.backend {
            Backend::Memcached(c) => {
                c.add(GENERATION_KEY, start.as_bytes()).await?;
                c.get_two(GENERATION_KEY, GENERATION_KEY).await?.0
            }
            Backend::Redis(c) => {
                c.add(GENERATION_KEY, start.as_bytes()).await?;
                c.get_two(GENERATION_KEY, GENERATION_KEY).await?.0
            }
            Backend::None | Backend::Memory(_) => None,
        };
        current
            .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok())
            .ok_or_else(|| CacheError("the generation counter vanished".into()))
    }

    async fn bump_counter(&self) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Memcached(c) => {
                if c.incr(GENERATION_KEY).await?.is_none() {
                    self.start_counter().await?;
                    c.incr(GENERATION_KEY).await?;
                }
                Ok(())
            }
            Backend::Redis(c) => c.incr(GENERATION_KEY).await.map(drop),
            Backend::None | Backend::Memory(_) => Ok(()),
        }
    }
}

fn entry_key(size: u32) -> String {
    format!("photoscale:feed:v2:{size}")
}
