//! Scheduled backups (`[backup] every = "10m"`, `infra up --backup-every`):
//! every instance of a fleet runs this loop, and exactly one makes each
//! backup. At each look the instance that takes the database's named lock
//! (MariaDB's GET_LOCK, PostgreSQL's advisory lock; SQLite has one
//! instance) checks the newest backup and makes one when it is older than
//! the interval, then prunes to `keep`. Off unless `every` is set.

use std::sync::Weak;
use std::time::Duration;

use super::Backups;
use crate::state::AppState;

/// The name of the database lock the runner takes.
pub const LOCK_NAME: &str = "photoscale-backup";

/// Starts the loop when `backup.every` is set.
pub fn keep_backing_up(state: &std::sync::Arc<AppState>) {
    let Some(every) = state.settings.backup.every else {
        return;
    };
    let keep = state.settings.backup.keep;
    let state: Weak<AppState> = std::sync::Arc::downgrade(state);
    // Look a few times per interval, so a backup is at most a fraction of
    // the interval late after the runner that made the last one goes away;
    // every instance at the same moments (the lock decides who runs).
    let look = (every / 4).clamp(Duration::from_millis(500), Duration::from_secs(60));
    tokio::spawn(async move {
        // Opened once (a bucket is checked with HeadBucket), again only
        // after it failed.
        let mut backups: Option<Backups> = None;
        loop {
            tokio::time::sleep(until_next_boundary(look)).await;
            let Some(state) = state.upgrade() else { return };
            if backups.is_none() {
                match Backups::for_app(&state).await {
                    Ok(opened) => backups = Some(opened),
                    Err(e) => {
                        tracing::warn!(error = %e, "scheduled backups cannot reach their store; they try again later");
                        continue;
                    }
                }
            }
            let Some(opened) = &backups else { continue };
            let result = run_once(&state, opened, every, keep).await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "scheduled backup failed; it tries again later");
            }
        }
    });
}

/// One look: under the lock, a backup when the newest is too old.
async fn run_once(
    state: &AppState,
    backups: &Backups,
    every: Duration,
    keep: Option<u32>,
) -> Result<(), String> {
    let Some(lock) = state
        .db
        .try_named_lock(LOCK_NAME)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(()); // Another instance is the runner now.
    };
    let result = async {
        let newest = backups.newest().await.map_err(|e| e.to_string())?;
        let due = match &newest {
            None => true,
            Some(m) => age_of(&m.created_at).is_none_or(|age| age >= every),
        };
        if due {
            let made = backups.create().await.map_err(|e| e.to_string())?;
            tracing::info!(
                backup = %made.id,
                users = made.users,
                photos = made.photos,
                instance_id = %state.instance.id,
                "scheduled backup made"
            );
            if let Some(keep) = keep {
                backups
                    .prune(keep as usize)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
    .await;
    lock.release().await;
    result
}

/// The wait until the clock next reaches a multiple of `look`: every
/// instance looks at the same moments, and the lock alone decides.
fn until_next_boundary(look: Duration) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let step = look.as_millis().max(1);
    let wait = step - now % step;
    Duration::from_millis(wait as u64)
}

/// How long ago an RFC 3339 time was (None when it cannot be read).
fn age_of(created_at: &str) -> Option<Duration> {
    let then: jiff::Timestamp = created_at.parse().ok()?;
    let age = jiff::Timestamp::now().duration_since(then);
    Duration::try_from(age).ok()
}
