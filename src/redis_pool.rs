//! One way to build a Redis connection pool, for sessions and the feed cache.
//! The pool connects lazily, so a Redis that is down at start-up does not
//! stop the app; requests that need it get a clear error until it returns.

use std::time::Duration;

use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

pub fn build(url: &str, timeout: Duration) -> anyhow::Result<Pool> {
    let mut config = Config::from_url(url);
    config.pool = Some(PoolConfig {
        max_size: 16,
        timeouts: Timeouts {
            wait: Some(timeout),
            create: Some(timeout),
            recycle: Some(timeout),
        },
        ..PoolConfig::default()
    });
    Ok(config.create_pool(Some(Runtime::Tokio1))?)
}
