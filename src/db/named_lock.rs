//! A lock the database server holds for a name, so that one instance of a
//! fleet does a job at a time (the scheduled backup): MariaDB's GET_LOCK and
//! PostgreSQL's advisory locks belong to a connection, so the lock keeps
//! that connection until it is released, and goes with it if the instance
//! dies. SQLite serves one instance, which always gets it.

use sqlx::any::Any;
use sqlx::pool::PoolConnection;

use super::{Db, DbError, Engine};

pub struct NamedLock {
    connection: PoolConnection<Any>,
    engine: Engine,
    name: String,
}

impl Db {
    /// The lock for `name` when no one else holds it; None when someone does.
    pub async fn try_named_lock(&self, name: &str) -> Result<Option<NamedLock>, DbError> {
        let mut connection = self.pool.acquire().await?;
        let taken = match self.engine {
            Engine::Sqlite => true,
            Engine::MySql => {
                let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                    .bind(name)
                    .fetch_one(&mut *connection)
                    .await?;
                got == Some(1)
            }
            Engine::Postgres => {
                sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(advisory_key(name))
                    .fetch_one(&mut *connection)
                    .await?
            }
        };
        Ok(taken.then(|| NamedLock {
            connection,
            engine: self.engine,
            name: name.to_owned(),
        }))
    }
}

impl NamedLock {
    pub async fn release(mut self) {
        let released = match self.engine {
            Engine::Sqlite => return,
            Engine::MySql => sqlx::query("SELECT RELEASE_LOCK(?)")
                .bind(&self.name)
                .execute(&mut *self.connection)
                .await
                .map(drop),
            Engine::Postgres => sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(advisory_key(&self.name))
                .execute(&mut *self.connection)
                .await
                .map(drop),
        };
        if released.is_err() {
            // The lock must not outlive its holder's intent: close the
            // connection, which releases it on the server.
            let _ = self.connection.detach();
        }
    }
}

/// PostgreSQL's advisory locks take a number: a stable hash of the name.
fn advisory_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn advisory_keys_are_stable_and_differ_by_name() {
        assert_eq!(super::advisory_key("a"), super::advisory_key("a"));
        assert_ne!(super::advisory_key("a"), super::advisory_key("b"));
    }
}
