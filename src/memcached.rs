//! A small pooled memcached client, shared by the session store and the feed
//! cache. Connections come from `async-memcached`; deadpool keeps a few open.
//! A connection whose operation did not finish (an I/O error, or a timeout
//! that cancelled it half-way) is never reused: its stream may be mid-reply.

use std::time::Duration;

use async_memcached::{AsciiProtocol, Client, Status};
use deadpool::managed::{self, Metrics, Object, Pool, RecycleError, RecycleResult};

#[derive(Debug, thiserror::Error)]
pub enum MemcachedError {
    #[error("no memcached connection: {0}")]
    Pool(String),
    #[error("memcached did not answer within {0:?}")]
    Timeout(Duration),
    #[error("memcached: {0:?}")]
    Command(async_memcached::Error),
}

pub struct Connection {
    client: Client,
    /// False while an operation is in flight; a dropped (cancelled) one leaves it false.
    clean: bool,
}

pub struct Manager {
    dsn: String,
}

impl managed::Manager for Manager {
    type Type = Connection;
    type Error = async_memcached::Error;

    async fn create(&self) -> Result<Connection, Self::Error> {
        Ok(Connection {
            client: Client::new(&self.dsn).await?,
            clean: true,
        })
    }

    async fn recycle(&self, conn: &mut Connection, _: &Metrics) -> RecycleResult<Self::Error> {
        if conn.clean {
            Ok(())
        } else {
            Err(RecycleError::message("an operation was interrupted"))
        }
    }
}

#[derive(Clone)]
pub struct Memcached {
    pool: Pool<Manager>,
    timeout: Duration,
}

impl std::fmt::Debug for Memcached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memcached").finish_non_exhaustive()
    }
}

impl Memcached {
    /// `url` is `memcache://HOST:PORT` (or `memcached://`, `tcp://`). No
    /// connection is made until the first command, so a server that is down
    /// at start-up does not stop the app.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, MemcachedError> {
        let parsed = url::Url::parse(url).map_err(|e| MemcachedError::Pool(e.to_string()))?;
        let host = parsed.host_str().unwrap_or("127.0.0.1");
        let port = parsed.port().unwrap_or(11211);
        let manager = Manager {
            dsn: format!("tcp://{host}:{port}"),
        };
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .build()
            .map_err(|e| MemcachedError::Pool(e.to_string()))?;
        Ok(Self { pool, timeout })
    }

    async fn connection(&self) -> Result<Object<Manager>, MemcachedError> {
        self.pool
            .get()
            .await
            .map_err(|e| MemcachedError::Pool(e.to_string()))
    }

    /// Runs one command with the timeout, marking the connection clean only
    /// when the server answered (with a value or a status).
    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut Client) -> Result<T, async_memcached::Error>,
    ) -> Result<T, MemcachedError> {
        let work = async {
            let mut conn = self.connection().await?;
            conn.clean = false;
            let result = command(&mut conn.client).await;
            conn.clean = matches!(result, Ok(_) | Err(async_memcached::Error::Protocol(_)));
            result.map_err(MemcachedError::Command)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| MemcachedError::Timeout(self.timeout))?
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MemcachedError> {
        let value = self.run(async |c: &mut Client| c.get(key).await).await?;
        Ok(value.and_then(|v| v.data))
    }

    /// Two keys in one request (a multi-get): one round trip, not two.
    pub async fn get_two(
        &self,
        first: &str,
        second: &str,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), MemcachedError> {
        let values = self
            .run(async |c: &mut Client| c.get_multi([first, second]).await)
            .await;
        let values = match values {
            Ok(values) => values,
            // Neither key exists.
            Err(MemcachedError::Command(async_memcached::Error::Protocol(Status::NotFound))) => {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let (mut one, mut two) = (None, None);
        for value in values {
            if value.key == first.as_bytes() {
                one = value.data.clone();
            }
            if value.key == second.as_bytes() {
                two = value.data;
            }
        }
        Ok((one, two))
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), MemcachedError> {
        let ttl = ttl_seconds(ttl);
        self.run(async |c: &mut Client| c.set(key, value, Some(ttl), None).await)
            .await
    }

    /// Stores only if absent; `false` when the key already exists.
    pub async fn add(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, MemcachedError> {
        let ttl = ttl_seconds(ttl);
        let result = self
            .run(async |c: &mut Client| c.add(key, value, Some(ttl), None).await)
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(MemcachedError::Command(async_memcached::Error::Protocol(
                Status::NotStored | Status::Exists,
            ))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds one to a counter; `None` when the key does not exist.
    pub async fn incr(&self, key: &str) -> Result<Option<u64>, MemcachedError> {
        let result = self
            .run(async |c: &mut Client| c.increment(key, 1).await)
            .await;
        match result {
            Ok(n) => Ok(Some(n)),
            Err(MemcachedError::Command(async_memcached::Error::Protocol(Status::NotFound))) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Removes a key; a missing key is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), MemcachedError> {
        let result = self.run(async |c: &mut Client| c.delete(key).await).await;
        match result {
            Ok(())
            | Err(MemcachedError::Command(async_memcached::Error::Protocol(Status::NotFound))) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// memcached reads a TTL above 30 days as an absolute Unix time, so longer
/// TTLs are capped rather than misread.
fn ttl_seconds(ttl: Duration) -> i64 {
    const THIRTY_DAYS: u64 = 30 * 24 * 3600;
    ttl.as_secs().clamp(1, THIRTY_DAYS) as i64
}
