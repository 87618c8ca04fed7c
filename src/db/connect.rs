//! Opening the database at start-up: pick the engine from the URL, retry with
//! backoff while the server is unreachable (it may still be starting), then
//! apply that engine's embedded migrations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

use super::{Db, Engine, SqliteReads};
use crate::configuration::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("`database.url` is not a database URL photoscale understands\n  fix: use sqlite://FILE, mysql://USER:PASSWORD@HOST:PORT/DB or postgres://USER:PASSWORD@HOST:PORT/DB")]
    UnknownScheme,
    #[error("`database.url` is not valid: {0}\n  fix: check the URL's syntax, e.g. mysql://photoscale:secret@127.0.0.1:3306/photoscale")]
    BadUrl(#[source] sqlx::Error),
    #[error("cannot reach the {engine} database at {host} (tried for {waited:?}): {cause}\n  fix: check that the server is running and that database.url (host, port, user, password, database name) is right")]
    Unreachable {
        engine: &'static str,
        host: String,
        waited: Duration,
        cause: String,
    },
    #[error(transparent)]
    Migrate(#[from] super::migrate::MigrationError),
}

impl Db {
    /// Connects (creating a SQLite file if needed) and applies the migrations.
    pub async fn connect(
        url: &SecretString,
        settings: &DatabaseSettings,
    ) -> Result<Self, DbSetupError> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        let engine = Engine::from_url(url).ok_or(DbSetupError::UnknownScheme)?;
        let options = connect_options(url, engine)?;
        let pool = connect_with_retry(&options, engine, settings, &host_of(url)).await?;
        super::migrate::run_migrations(&pool, engine).await?;
        let sqlite_reads = match sqlite_file(url) {
            Some(file) if engine == Engine::Sqlite => Some(Arc::new(SqliteReads::new(&file))),
            _ => None,
        };
        Ok(Self {
            pool,
            engine,
            sqlite_reads,
            query_timeout: settings.query_timeout,
        })
    }
}

fn connect_options(url: &str, engine: Engine) -> Result<AnyConnectOptions, DbSetupError> {
    let url = match engine {
        // Create the file on first run (SQLite's "read, write, create" mode).
        Engine::Sqlite if !url.contains("mode=") => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}mode=rwc")
        }
        _ => url.to_owned(),
    };
    url.parse().map_err(DbSetupError::BadUrl)
}

async fn connect_with_retry(
    options: &AnyConnectOptions,
    engine: Engine,
    settings: &DatabaseSettings,
    host: &str,
) -> Result<AnyPool, DbSetupError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match try_connect(options, engine, settings).await {
            Ok(pool) => return Ok(pool),
            // A refused connection may be a server still starting; a wrong
            // password or a missing database will not fix itself.
            Err(e)
                if !super::engine::is_connection_level(&e)
                    || started.elapsed() >= settings.connect_timeout =>
            {
                return Err(DbSetupError::Unreachable {
                    engine: engine.name(),
                    host: host.to_owned(),
                    waited: Duration::from_secs(started.elapsed().as_secs()),
                    cause: e.to_string(),
                });
            }
            Err(e) => {
                tracing::warn!(engine = engine.name(), host, error = %e, retry_in = ?delay, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// One plain connection first: the pool would retry by itself and report
/// only "timed out", hiding the cause (say, "connection refused").
async fn try_connect(
    options: &AnyConnectOptions,
    engine: Engine,
    settings: &DatabaseSettings,
) -> Result<AnyPool, sqlx::Error> {
    let probe = tokio::time::timeout(
        settings.acquire_timeout,
        AnyConnection::connect_with(options),
    )
    .await
    .map_err(|_| sqlx::Error::PoolTimedOut)??;
    let _ = probe.close().await;
    pool_options(engine, settings)
        .connect_with(options.clone())
        .await
}

fn pool_options(engine: Engine, settings: &DatabaseSettings) -> AnyPoolOptions {
    let limit_ms = settings.query_timeout.as_millis().max(1) as u64;
    AnyPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match engine {
                    // WAL lets readers run beside the writer; the busy timeout
                    // makes a writer wait for another instead of failing.
                    Engine::Sqlite => {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    // The server's own limit, so a query the app gave up on
                    // does not run on: MariaDB counts in seconds, MySQL in
                    // milliseconds (SELECTs only), under different names.
                    Engine::MySql => {
                        let mariadb = format!("SET SESSION max_statement_time = {}", limit_ms as f64 / 1000.0);
                        if conn.execute(mariadb.as_str()).await.is_err() {
                            let mysql = format!("SET SESSION max_execution_time = {limit_ms}");
                            let _ = conn.execute(mysql.as_str()).await;
                        }
                    }
                    Engine::Postgres => {
                        conn.execute(format!("SET statement_timeout = {limit_ms}").as_str())
                            .await?;
                    }
                }
                Ok(())
            })
        })
}

/// The file of a `sqlite://FILE[?options]` URL; None for an in-memory
/// database, which only sqlx's own connections can see.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    let in_memory = file.is_empty() || file == ":memory:" || rest.contains("mode=memory");
    (!in_memory).then(|| std::path::PathBuf::from(file))
}

/// "host:port" for messages, never the user or password.
fn host_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "sqlite" => url.trim_start_matches("sqlite://").to_owned(),
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => "(no host)".to_owned(),
        },
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_found_in_their_urls() {
        use std::path::PathBuf;
        let file = |url| sqlite_file(url);
        assert_eq!(file("sqlite://data/p.db"), Some(PathBuf::from("data/p.db")));
        assert_eq!(
            file("sqlite:///tmp/p.db?mode=rwc"),
            Some(PathBuf::from("/tmp/p.db"))
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://x.db?mode=memory"), None);
        assert_eq!(file("mysql://h/db"), None);
    }

    #[test]
    fn host_never_includes_credentials() {
        assert_eq!(
            host_of("mysql://app:hunter2@db.local:3306/p"),
            "db.local:3306"
        );
        assert_eq!(host_of("postgres://app:pw@10.0.0.5/p"), "10.0.0.5");
        assert_eq!(host_of("sqlite://data/p.db"), "data/p.db");
    }
}
