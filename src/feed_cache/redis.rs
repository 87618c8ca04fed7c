//! The feed cache in Redis, over a deadpool-redis connection pool.

use std::time::Duration;

use deadpool_redis::redis::{self, AsyncCommands};

use super::CacheError;
use crate::redis_pool;

pub struct RedisCache {
    pool: deadpool_redis::Pool,
    timeout: Duration,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

impl RedisCache {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            pool: redis_pool::build(url, timeout)?,
            timeout,
        })
    }

    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut deadpool_redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, CacheError> {
        let work = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| CacheError(e.to_string()))?;
            command(&mut conn)
                .await
                .map_err(|e| CacheError(e.to_string()))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| CacheError(format!("redis did not answer within {:?}", self.timeout)))?
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.run(async |c: &mut deadpool_redis::Connection| c.get(key).await)
            .await
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let seconds = ttl.as_secs().max(1);
        self.run(async |c: &mut deadpool_redis::Connection| c.set_ex(key, value, seconds).await)
            .await
    }

    pub async fn add(&self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        self.run(async |c: &mut deadpool_redis::Connection| {
            c.set_nx::<_, _, bool>(key, value).await.map(drop)
        })
        .await
    }

    /// INCR on a missing key would start from 0, below earlier generations,
    /// so a missing counter is first set from the clock, in the same
    /// transaction.
    pub async fn incr(&self, key: &str) -> Result<Option<u64>, CacheError> {
        let start = crate::db::now_millis();
        self.run(async |c: &mut deadpool_redis::Connection| {
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
