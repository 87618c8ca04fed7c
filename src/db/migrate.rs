//! Applying the migrations when several instances start at once.
//!
//! sqlx's MySQL migrator locks with `GET_LOCK(name, -1)`, which MariaDB
//! refuses (a negative timeout gives NULL and warning 1411), so on MariaDB two
//! instances booting together both applied the same migration and one died on
//! a duplicate key. Here every instance takes a named lock of its own, with a
//! positive timeout, retried, on the connection that then runs the
//! migrations: MySQL and MariaDB `GET_LOCK`, PostgreSQL an advisory lock.
//! SQLite needs none (one host, and its writers queue on the file lock).

use std::time::{Duration, Instant};

use sqlx::{AnyConnection, AnyPool, Executor, Row};

use super::Engine;

/// The lock's name (MySQL) and its key (PostgreSQL: any 64-bit number that
/// no other part of the app uses; this one spells "photoscl").
const LOCK_NAME: &str = "photoscale_migrations";
const PG_LOCK_KEY: i64 = 0x7068_6f74_6f73_636c;

/// How long an instance waits for another's migrations before giving up.
const PATIENCE: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot take the migration lock: {0}")]
    Lock(#[from] sqlx::Error),
    #[error("another instance held the migration lock for over {0:?}\n  fix: check for an instance stuck while migrating (its log says \"applying database migrations\"), or a long migration still running")]
    LockTimeout(Duration),
}

/// Applies `engine`'s migrations, one instance at a time.
pub async fn run_migrations(pool: &AnyPool, engine: Engine) -> Result<(), MigrationError> {
    let mut pooled = pool.acquire().await?;
    let conn: &mut AnyConnection = &mut pooled;
    if engine == Engine::Sqlite {
        engine.migrator().run_direct(conn).await?;
        return Ok(());
    }
    lock(conn, engine).await?;
    tracing::debug!(engine = engine.name(), "applying database migrations");
    let applied = engine.migrator().run_direct(conn).await;
    // Released even when the migrations failed; the lock also ends with the
    // connection (MySQL) or session (PostgreSQL) if this does not run.
    let released = unlock(conn, engine).await;
    applied?;
    released?;
    Ok(())
}

async fn lock(conn: &mut AnyConnection, engine: Engine) -> Result<(), MigrationError> {
    let started = Instant::now();
    loop {
        let taken = match engine {
            // Waits up to 5 s inside the server; 1 when taken, 0 on timeout.
            Engine::MySql => {
                conn.fetch_one(sqlx::query("SELECT GET_LOCK(?, 5)").bind(LOCK_NAME))
                    .await?
                    .try_get::<Option<i64>, _>(0)?
                    == Some(1)
            }
            Engine::Postgres => {
                let taken = conn
                    .fetch_one(sqlx::query("SELECT pg_try_advisory_lock($1)").bind(PG_LOCK_KEY))
                    .await?
                    .try_get::<bool, _>(0)?;
                if !taken {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                taken
            }
            Engine::Sqlite => true,
        };
        if taken {
            return Ok(());
        }
        if started.elapsed() > PATIENCE {
            return Err(MigrationError::LockTimeout(PATIENCE));
        }
        tracing::info!("waiting for another instance's database migrations");
    }
}

async fn unlock(conn: &mut AnyConnection, engine: Engine) -> Result<(), MigrationError> {
    match engine {
        Engine::MySql => {
            conn.execute(sqlx::query("SELECT RELEASE_LOCK(?)").bind(LOCK_NAME))
                .await?;
        }
        Engine::Postgres => {
            conn.execute(sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_LOCK_KEY))
                .await?;
        }
        Engine::Sqlite => {}
    }
    Ok(())
}
