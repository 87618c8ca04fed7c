//! The feed cache in memcached.

use std::time::Duration;

use super::CacheError;
use crate::memcached::{Memcached, MemcachedError};

#[derive(Debug)]
pub struct MemcachedCache {
    client: Memcached,
}

fn failed(e: MemcachedError) -> CacheError {
    CacheError(e.to_string())
}

impl MemcachedCache {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: Memcached::new(url, timeout)?,
        })
    }

    /// Two keys in one request.
    pub async fn get_two(
        &self,
        first: &str,
        second: &str,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), CacheError> {
        self.client.get_two(first, second).await.map_err(failed)
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.client.set(key, value, ttl).await.map_err(failed)
    }

    /// The generation counter lives as long as memcached allows a relative
    /// TTL (30 days); if it is evicted, it restarts from the clock.
    pub async fn add(&self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        let forever = Duration::from_secs(30 * 24 * 3600);
        self.client
            .add(key, value, forever)
            .await
            .map(drop)
            .map_err(failed)
    }

    pub async fn incr(&self, key: &str) -> Result<Option<u64>, CacheError> {
        self.client.incr(key).await.map_err(failed)
    }
}
