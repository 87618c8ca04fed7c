//! The feed cache in Redis, over one multiplexed connection that reconnects
//! by itself (redis's `ConnectionManager`): concurrent requests share it,
//! pipelined, with no pool and no health ping per use.

use std::time::Duration;

use deadpool_redis::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use deadpool_redis::redis::{self, AsyncCommands};
use tokio::sync::OnceCell;

use super::CacheError;

pub struct RedisCache {
    client: redis::Client,
    /// Made on first use, so a Redis that is down at start-up does not stop
    /// the app; until it answers, every call fails fast with a clear error.
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

fn failed(e: impl std::fmt::Display) -> CacheError {
    CacheError(e.to_string())
}

impl RedisCache {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(1);
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
            .map_err(failed)
    }

    /// Runs one command with the timeout.
    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, CacheError> {
        let work = async {
            let mut connection = self.connection().await?;
            command(&mut connection).await.map_err(failed)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| CacheError(format!("redis did not answer within {:?}", self.timeout)))?
    }

    /// Two keys in one request (MGET).
    pub async fn get_two(
        &self,
        first: &str,
        second: &str,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), CacheError> {
        let values: Vec<Option<Vec<u8>>> = self
            .run(async |c: &mut ConnectionManager| c.mget(&[first, second]).await)
            .await?;
        let mut values = values.into_iter();
        Ok((values.next().flatten(), values.next().flatten()))
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let seconds = ttl.as_secs().max(1);
        self.run(async |c: &mut ConnectionManager| c.set_ex(key, value, seconds).await)
            .await
    }

    pub async fn add(&self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        self.run(async |c: &mut ConnectionManager| {
            c.set_nx::<_, _, bool>(key, value).await.map(drop)
        })
        .await
    }

    /// INCR on a missing key would start from 0, below earlier generations,
    /// so a missing counter is first set from the clock, in the same
    /// transaction.
    pub async fn incr(&self, key: &str) -> Result<Option<u64>, CacheError> {
        let start = crate::db::now_millis();
        self.run(async |c: &mut ConnectionManager| {
            let (_, next): (Option<String>, u64) = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(key)
                .arg(start)
                .arg("NX")
                .cmd("INCR")
                .arg(key)
                .query_async(c)
                .await?;
            Ok(Some(next))
        })
        .await
    }
}
