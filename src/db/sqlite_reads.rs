//! SQLite reads on the request path: the feed and a photo by id, through
//! rusqlite connections on the blocking pool.
//!
//! sqlx runs every SQLite connection on a thread of its own and moves each
//! command and each row across threads, and its `Any` driver converts
//! every row once more; for a ten-row query that was most of a feed
//! request's cost (11,800 against 42,000 queries a second, measured side by
//! side). Here a query is one trip to the blocking pool and back. (A pool
//! crate, deadpool-sqlite, checks each connection with a query on another
//! such trip before every use, which a local file does not need.) Writes
//! and migrations stay on sqlx: they are rare, and one code path for three
//! engines matters more there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::Semaphore;

use super::photos::{PhotoRecord, LATEST_PHOTOS_SQLITE, PHOTO_BY_PUBLIC_ID};
use super::DbError;

/// Reads at once: two CPUs' worth, with spares for a slow one.
const CONNECTIONS: usize = 4;

pub struct SqliteReads {
    file: PathBuf,
    /// Idle connections (opened on first use, then reused).
    idle: Arc<Mutex<Vec<Connection>>>,
    /// One permit per connection.
    slots: Semaphore,
    closed: AtomicBool,
}

impl std::fmt::Debug for SqliteReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReads")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl SqliteReads {
    /// Reads of the database file at `file`, which sqlx has already created
    /// and migrated.
    pub fn new(file: &Path) -> Self {
        Self {
            file: file.to_owned(),
            idle: Arc::new(Mutex::new(Vec::new())),
            slots: Semaphore::new(CONNECTIONS),
            closed: AtomicBool::new(false),
        }
    }

    /// Later queries fail as "unavailable", as sqlx's closed pool does.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.slots.close();
        lock(&self.idle).clear();
    }

    pub async fn latest_photos(&self, limit: u32) -> Result<Vec<PhotoRecord>, DbError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&LATEST_PHOTOS_SQLITE)?;
            let rows = statement.query_map([i64::from(limit)], photo_record)?;
            rows.collect()
        })
        .await
    }

    pub async fn find_photo(&self, public_id: &str) -> Result<Option<PhotoRecord>, DbError> {
        let public_id = public_id.to_owned();
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&PHOTO_BY_PUBLIC_ID)?;
            let mut rows = statement.query_map([public_id], photo_record)?;
            rows.next().transpose()
        })
        .await
    }

    /// Runs `query` on an idle connection (or a new one) on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, DbError> {
        let closed = || unavailable("the database was closed".into());
        if self.closed.load(Ordering::Relaxed) {
            return Err(closed());
        }
        let _slot = self.slots.acquire().await.map_err(|_| closed())?;
        let (idle, file) = (self.idle.clone(), self.file.clone());
        tokio::task::spawn_blocking(move || {
            let taken = lock(&idle).pop();
            let conn = match taken {
                Some(conn) => conn,
                None => open(&file).map_err(failed)?,
            };
            let result = query(&conn).map_err(failed);
            lock(&idle).push(conn);
            result
        })
        .await
        .map_err(|e| unavailable(format!("the query's thread failed: {e}")))?
    }
}

fn lock(idle: &Mutex<Vec<Connection>>) -> std::sync::MutexGuard<'_, Vec<Connection>> {
    idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An existing file only (sqlx created it); wait for a writer rather than
/// fail; never write.
fn open(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

fn photo_record(row: &Row<'_>) -> rusqlite::Result<PhotoRecord> {
    Ok(PhotoRecord {
        public_id: row.get(0)?,
        username: row.get(1)?,
        caption: row.get(2)?,
        object_key: row.get(3)?,
        content_type: row.get(4)?,
        size_bytes: row.get(5)?,
        width: row.get(6)?,
        height: row.get(7)?,
        sha256: row.get(8)?,
        thumb_key: row.get(9)?,
        thumb_type: row.get(10)?,
        thumb_sha256: row.get(11)?,
        created_at: row.get(12)?,
    })
}

fn unavailable(detail: String) -> DbError {
    DbError::Unavailable(sqlx::Error::Protocol(detail))
}

/// A locked or unopenable file is the database being unavailable; anything
/// else is a failed query.
fn failed(e: rusqlite::Error) -> DbError {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked};
    match e.sqlite_error_code() {
        Some(CannotOpen | DatabaseBusy | DatabaseLocked) => unavailable(e.to_string()),
        _ => DbError::Query(sqlx::Error::Protocol(e.to_string())),
    }
}
