//! One multiplexed Redis connection that reconnects by itself (redis's
//! `ConnectionManager`), made on first use, every command under a timeout.
//! Concurrent requests share it, pipelined, with no pool and no health ping
//! per use. The feed cache and the abuse limits each hold one.

use std::time::Duration;

use deadpool_redis::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use deadpool_redis::redis::{self, RedisResult};
use tokio::sync::OnceCell;

#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisError(String);

pub struct RedisConnection {
    client: redis::Client,
    /// Made on first use, so a Redis that is down at start-up does not stop
    /// the app; until it answers, every call fails fast with a clear error.
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection").finish_non_exhaustive()
    }
}

impl RedisConnection {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(1);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
            .map_err(|e| RedisError(e.to_string()))
    }

    /// Runs one command (or pipeline) with the timeout.
    pub async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut ConnectionManager) -> RedisResult<T>,
    ) -> Result<T, RedisError> {
        let work = async {
            let mut connection = self.connection().await?;
            command(&mut connection)
                .await
                .map_err(|e| RedisError(e.to_string()))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RedisError(format!("no answer within {:?}", self.timeout)))?
    }
}
