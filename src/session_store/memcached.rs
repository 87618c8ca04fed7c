//! Sessions in memcached (the classic tutorial's ElastiCache), stored as JSON
//! under `photoscale:session:<key>` with the session TTL.

use std::time::Duration;

use super::SessionState;
use crate::memcached::Memcached;

#[derive(Clone)]
pub struct MemcachedSessionStore {
    client: Memcached,
}

fn item(key: &str) -> String {
    format!("photoscale:session:{key}")
}

impl MemcachedSessionStore {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: Memcached::new(url, timeout)?,
        })
    }

    pub async fn load(&self, key: &str) -> anyhow::Result<Option<SessionState>> {
        let Some(bytes) = self.client.get(&item(key)).await? else {
            return Ok(None);
        };
        // A value that no longer parses is an expired session, not an outage.
        Ok(serde_json::from_slice(&bytes).ok())
    }

    pub async fn store(
        &self,
        key: &str,
        state: &SessionState,
        ttl: Duration,
    ) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(state)?;
        self.client.set(&item(key), &bytes, ttl).await?;
        Ok(())
    }

    /// memcached's `touch` is not in the client; rewriting the value does the same.
    pub async fn touch(&self, key: &str, ttl: Duration) -> anyhow::Result<()> {
        if let Some(state) = self.load(key).await? {
            self.store(key, &state, ttl).await?;
        }
        Ok(())
    }

    pub async fn remove(&self, key: &str) -> anyhow::Result<()> {
        self.client.delete(&item(key)).await?;
        Ok(())
    }
}
