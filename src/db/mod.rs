//! The database port: one `Db` handle whose methods are the only SQL in the app.
//!
//! The engine (SQLite, MySQL/MariaDB or PostgreSQL) is chosen by the URL
//! scheme at run time through sqlx's `Any` driver. Queries are written once,
//! in the SQL the three engines agree on, with `?` placeholders that are
//! rewritten to `$1, $2, ...` for PostgreSQL.

mod connect;
mod engine;
mod migrate;
mod named_lock;
mod photos;
mod sqlite_reads;
mod transfer;
mod users;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;

use sqlite_reads::SqliteReads;

pub use connect::DbSetupError;
pub use engine::Engine;
pub use photos::{NewPhoto, PhotoRecord};
pub use transfer::{PhotoRow, UserRow};
pub use users::UserRecord;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("that username is already taken")]
    UsernameTaken,
    #[error("database query failed: {0}")]
    Query(#[source] sqlx::Error),
    /// `database.query_timeout` passed: the server may be hung, or slow.
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if engine::is_connection_level(&e) {
            DbError::Unavailable(e)
        } else {
            DbError::Query(e)
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    /// SQLite only: the request path's reads (see sqlite_reads.rs).
    sqlite_reads: Option<Arc<SqliteReads>>,
    /// The deadline on every call of the request path (`database.query_timeout`).
    query_timeout: Duration,
}

impl Db {
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// `sql` with placeholders in this engine's style.
    fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        self.engine.placeholders(sql)
    }

    /// Runs one database call under `database.query_timeout`. Dropping the
    /// call cancels it; sqlx does not put a connection back mid-query.
    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, DbError>>,
    ) -> Result<T, DbError> {
        tokio::time::timeout(self.query_timeout, call)
            .await
            .unwrap_or(Err(DbError::TimedOut(self.query_timeout)))
    }

    /// True when a trivial query answers within `timeout`.
    pub async fn is_reachable(&self, timeout: Duration) -> bool {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(_)))
    }

    /// Closes every connection; later queries fail as "unavailable".
    pub async fn close(&self) {
        if let Some(reads) = &self.sqlite_reads {
            reads.close();
        }
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
