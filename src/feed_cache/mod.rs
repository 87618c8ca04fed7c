//! The read-through cache of the front page's feed: `none`, per-instance
//! `memory`, `memcached` or `redis`, each backend in its own file offering the
//! same three primitives (get, set, increment a counter).
//!
//! Invalidation uses a generation number rather than deleting the entry: an
//! upload bumps `feed:generation`, and entries live under the generation they
//! were read in. A reader that fetched the old feed from the database just
//! before an upload can only write it under the old generation, which nobody
//! reads any more, so the uploader's next page view is never stale.
//!
//! The cache is an optimisation, never a dependency: any error or a reply
//! slower than `cache.timeout` falls back to the database, logged once per
//! incident.

mod health;
mod memcached;
mod memory;
mod redis;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::configuration::{CacheBackend, CacheSettings};
use crate::db::{now_millis, PhotoRecord};
use health::CacheHealth;

const GENERATION_KEY: &str = "photoscale:feed:generation";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(String);

/// What the cache holds for one generation and feed size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedFeed {
    pub stored_at_ms: i64,
    pub photos: Vec<PhotoRecord>,
}

#[derive(Debug)]
enum Backend {
    None,
    Memory(memory::MemoryCache),
    Memcached(memcached::MemcachedCache),
    Redis(redis::RedisCache),
}

#[derive(Debug)]
pub struct FeedCache {
    backend: Backend,
    ttl: Duration,
    health: CacheHealth,
    /// Set when an invalidation could not reach the cache: until then (one
    /// TTL later, when any stale entry has expired) this instance bypasses it.
    bypass_until_ms: AtomicI64,
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
            CacheBackend::Redis => Backend::Redis(redis::RedisCache::new(&url, settings.timeout)?),
        };
        Ok(Self {
            backend,
            ttl: settings.ttl,
            health: CacheHealth::default(),
            bypass_until_ms: AtomicI64::new(0),
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

    /// The feed of `size` photos for the current generation, if cached. The
    /// generation is returned too, to store a fresh read under.
    pub async fn get(&self, size: u32) -> (Option<u64>, Option<CachedFeed>) {
        if !self.is_enabled() || now_millis() < self.bypass_until_ms.load(Ordering::Relaxed) {
            return (None, None);
        }
        let generation = match self.observe(self.generation()).await {
            Some(generation) => generation,
            None => return (None, None),
        };
        let key = entry_key(generation, size);
        let bytes = self.observe(self.raw_get(&key)).await.flatten();
        let feed = bytes.and_then(|b| serde_json::from_slice::<CachedFeed>(&b).ok());
        (Some(generation), feed)
    }

    /// Stores a feed read from the database under the generation it was read in.
    pub async fn put(&self, generation: Option<u64>, size: u32, photos: &[PhotoRecord]) {
        let Some(generation) = generation else { return };
        let feed = CachedFeed {
            stored_at_ms: now_millis(),
            photos: photos.to_vec(),
        };
        let Ok(bytes) = serde_json::to_vec(&feed) else {
            return;
        };
        let key = entry_key(generation, size);
        self.observe(self.raw_set(&key, &bytes)).await;
    }

    /// After an upload: every cached feed is out of date.
    pub async fn invalidate(&self) {
        if self.is_enabled() && self.observe(self.bump_generation()).await.is_none() {
            let until = now_millis() + self.ttl.as_millis() as i64;
            self.bypass_until_ms.store(until, Ordering::Relaxed);
        }
    }

    /// Times the call out, records the cache's health, and turns failures
    /// into `None` so callers fall back to the database.
    async fn observe<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, CacheError>>,
    ) -> Option<T> {
        self.health.observe(call).await
    }

    async fn generation(&self) -> Result<u64, CacheError> {
        if let Some(n) = self.raw_get_counter().await? {
            return Ok(n);
        }
        // No counter yet (first use, or evicted): start from the clock, which
        // is above any generation handed out before, then read the winner.
        self.raw_init_counter(now_millis() as u64).await?;
        Ok(self.raw_get_counter().await?.unwrap_or(0))
    }

    async fn bump_generation(&self) -> Result<(), CacheError> {
        if self.raw_incr().await?.is_none() {
            self.raw_init_counter(now_millis() as u64).await?;
            self.raw_incr().await?;
        }
        Ok(())
    }

    async fn raw_get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match &self.backend {
            Backend::None => Ok(None),
            Backend::Memory(c) => Ok(c.get(key)),
            Backend::Memcached(c) => c.get(key).await,
            Backend::Redis(c) => c.get(key).await,
        }
    }

    async fn raw_set(&self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        match &self.backend {
            Backend::None => Ok(()),
            Backend::Memory(c) => {
                c.set(key, value, self.ttl);
                Ok(())
            }
            Backend::Memcached(c) => c.set(key, value, self.ttl).await,
            Backend::Redis(c) => c.set(key, value, self.ttl).await,
        }
    }

    async fn raw_get_counter(&self) -> Result<Option<u64>, CacheError> {
        let bytes = self.raw_get(GENERATION_KEY).await?;
        Ok(bytes.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok()))
    }

    async fn raw_init_counter(&self, value: u64) -> Result<(), CacheError> {
        let text = value.to_string();
        match &self.backend {
            Backend::None => Ok(()),
            Backend::Memory(c) => {
                c.add_counter(GENERATION_KEY, value);
                Ok(())
            }
            Backend::Memcached(c) => c.add(GENERATION_KEY, text.as_bytes()).await,
            Backend::Redis(c) => c.add(GENERATION_KEY, text.as_bytes()).await,
        }
    }

    async fn raw_incr(&self) -> Result<Option<u64>, CacheError> {
        match &self.backend {
            Backend::None => Ok(None),
            Backend::Memory(c) => Ok(c.incr(GENERATION_KEY)),
            Backend::Memcached(c) => c.incr(GENERATION_KEY).await,
            Backend::Redis(c) => c.incr(GENERATION_KEY).await,
        }
    }
}

fn entry_key(generation: u64, size: u32) -> String {
    format!("photoscale:feed:{generation}:{size}")
}
