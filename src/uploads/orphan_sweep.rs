//! The sweep of objects without a row. `save_photo` writes a photo's
//! objects before its row and removes them again on any failure it sees;
//! but an instance killed in between (SIGKILL, a lost host) leaves the
//! objects with no row, and a directory store can be left a staging file
//! of a write that never finished. Each instance looks for both every
//! `storage.sweep_every` and removes those older than
//! `storage.orphan_grace`, so that no upload still under way loses its
//! objects.
//!
//! The sweep never removes anything when it cannot ask the database, and
//! it refuses when most old objects look orphaned: that is an instance
//! pointed at a database that is not its storage's (a fresh SQLite beside a
//! shared bucket), not a crash, and removing would lose every photo.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use rand::Rng;

use crate::db::{Db, DbError};
use crate::state::AppState;
use crate::storage::{Listed, Storage, StorageError};

/// The prefixes the app writes objects under (see `save_photo`).
const PREFIXES: [&str; 2] = ["originals/", "thumbnails/"];

/// More orphans than this in one sweep, and more than `SUSPICIOUS_SHARE`
/// of the old objects, stop the sweep: see the module's comment.
const ORPHANS_WITHOUT_QUESTION: usize = 20;
const SUSPICIOUS_SHARE: f64 = 0.01;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("listing the photo storage failed: {0}")]
    Storage(#[from] StorageError),
    #[error("the database could not say which objects have rows: {0}")]
    Database(#[from] DbError),
    #[error(
        "{orphans} of {old} objects older than the grace have no database row: this looks like \
         a database that is not the one this storage belongs to, so nothing was removed \
         (check database.url and storage.* on this instance)"
    )]
    TooManyOrphans { orphans: usize, old: usize },
}

/// What one sweep saw and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects (and staging files) older than the grace.
    pub old: usize,
    /// Objects removed because no row names them.
    pub orphans_removed: Vec<String>,
    /// Staging files of interrupted writes removed.
    pub staging_removed: Vec<String>,
}

/// Runs a sweep at a random moment within each `every` (so that a fleet's
/// instances do not all list the store at once) for as long as the app lives.
pub fn keep_sweeping(state: &Arc<AppState>) {
    let every = state.settings.storage.sweep_every;
    if every.is_zero() {
        return;
    }
    let state: Weak<AppState> = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            let jitter = rand::thread_rng().gen_range(0.5..1.0);
            tokio::time::sleep(every.mul_f64(jitter)).await;
            let Some(state) = state.upgrade() else { return };
            let grace = state.settings.storage.orphan_grace;
            match sweep(&state.db, &state.storage, grace).await {
                Ok(report)
                    if report.orphans_removed.is_empty() && report.staging_removed.is_empty() => {}
                Ok(report) => tracing::warn!(
                    orphans = report.orphans_removed.len(),
                    staging_files = report.staging_removed.len(),
                    "removed objects left by interrupted uploads"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "the orphan sweep stopped; it tries again later")
                }
            }
        }
    });
}

/// One sweep: objects older than `grace` whose photo has no row, and
/// staging files older than `grace`, are removed.
pub async fn sweep(db: &Db, storage: &Storage, grace: Duration) -> Result<SweepReport, SweepError> {
    let cutoff = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut report = SweepReport::default();
    let mut orphans = Vec::new();
    let mut staging = Vec::new();
    for prefix in PREFIXES {
        let mut pages = storage.list(prefix);
        while let Some(page) = pages.recv().await {
            let old: Vec<Listed> = page?.into_iter().filter(|l| l.modified < cutoff).collect();
            report.old += old.len();
            let (leftovers, objects): (Vec<Listed>, Vec<Listed>) =
                old.into_iter().partition(Listed::is_staging);
            staging.extend(leftovers.into_iter().map(|l| l.key));
            orphans.extend(without_rows(db, objects).await?);
        }
    }
    if orphans.len() > ORPHANS_WITHOUT_QUESTION
        && orphans.len() as f64 > report.old as f64 * SUSPICIOUS_SHARE
    {
        return Err(SweepError::TooManyOrphans {
            orphans: orphans.len(),
            old: report.old,
        });
    }
    for key in orphans {
        storage.delete(&key).await?;
        tracing::warn!(
            key,
            "removed an object without a database row (an upload interrupted by a crash)"
        );
        report.orphans_removed.push(key);
    }
    for key in staging {
        storage.delete(&key).await?;
        report.staging_removed.push(key);
    }
    Ok(report)
}

/// The keys among `objects` that no photo row names.
async fn without_rows(db: &Db, objects: Vec<Listed>) -> Result<Vec<String>, DbError> {
    let ids: Vec<&str> = objects.iter().map(|l| photo_id_of(&l.key)).collect();
    let kept: HashSet<String> = db.stored_keys_of(&ids).await?;
    Ok(objects
        .into_iter()
        .map(|l| l.key)
        .filter(|key| !kept.contains(key))
        .collect())
}

/// `originals/ID.jpg` → `ID`: the photo a key would belong to.
fn photo_id_of(key: &str) -> &str {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.split('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_photo() {
        assert_eq!(photo_id_of("originals/abc123.jpg"), "abc123");
        assert_eq!(photo_id_of("thumbnails/abc123.webp"), "abc123");
        assert_eq!(photo_id_of("originals/noext"), "noext");
    }
}
