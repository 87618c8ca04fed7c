//! The feed cache in Redis, over one multiplexed connection
//! (`RedisConnection`): concurrent requests share it, pipelined.

use std::time::Duration;

use deadpool_redis::redis::aio::ConnectionManager;
use deadpool_redis::redis::{self, AsyncCommands};

use super::CacheError;
use crate::redis_connection::RedisConnection;

pub struct RedisCache {
    connection: RedisConnection,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

impl RedisCache {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            connection: RedisConnection::new(url, timeout)?,
        })
    }

    /// Runs one command with the timeout.
    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, CacheError> {
        self.connection
            .run(command)
            .await
            .map_err(|e| CacheError(e.to_string()))
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
