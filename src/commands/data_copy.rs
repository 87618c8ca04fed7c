//! `photoscale data copy --from A.toml --to B.toml`: copies every user and
//! photo (rows and image files) from one configuration's database and
//! storage to another's, e.g. SQLite + local disk to MariaDB + a shared
//! directory, or a shared directory to S3. `infra up` runs it when a level
//! change moves the data. Running it twice copies nothing twice.

use std::collections::HashMap;

use anyhow::Context;
use futures_util::TryStreamExt;
use secrecy::ExposeSecret;

use crate::configuration::{redact_url_password, Settings};
use crate::db::Db;
use crate::storage::{Storage, StorageError};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub users_copied: usize,
    pub photos_copied: usize,
    pub files_copied: usize,
    /// Rows or files the target already had.
    pub already_there: usize,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "copied {} user(s), {} photo(s), {} file(s); {} already there",
            self.users_copied, self.photos_copied, self.files_copied, self.already_there
        )
    }
}

/// One side of the copy: a database and a photo store.
struct Side {
    db: Db,
    storage: Storage,
}

impl Side {
    async fn open(settings: &Settings, role: &str) -> anyhow::Result<Self> {
        let url = settings.database_url();
        let db = Db::connect(&url, &settings.database)
            .await
            .with_context(|| {
                format!(
                    "{role} database {}",
                    redact_url_password(url.expose_secret())
                )
            })?;
        let storage = Storage::from_settings(settings)
            .await
            .with_context(|| format!("{role} photo storage"))?;
        Ok(Self { db, storage })
    }
}

pub async fn copy(from: &Settings, to: &Settings) -> anyhow::Result<CopyReport> {
    let source = Side::open(from, "source").await?;
    let target = Side::open(to, "target").await?;
    let mut report = CopyReport::default();
    let mut user_ids = HashMap::new();
    for user in source.db.all_users().await? {
        let (id, inserted) = target.db.import_user(&user).await?;
        count(
            &mut report.users_copied,
            &mut report.already_there,
            inserted,
        );
        user_ids.insert(user.id, id);
    }
    for photo in source.db.all_photos().await? {
        // Files first: a row is only visible once its files are in place.
        for (key, content_type) in [
            (&photo.object_key, &photo.content_type),
            (&photo.thumb_key, &photo.thumb_type),
        ] {
            let copied = copy_file(&source.storage, &target.storage, key, content_type).await?;
            count(&mut report.files_copied, &mut report.already_there, copied);
        }
        let user_id = user_ids[&photo.user_id];
        let inserted = target.db.import_photo(&photo, user_id).await?;
        count(
            &mut report.photos_copied,
            &mut report.already_there,
            inserted,
        );
    }
    Ok(report)
}

fn count(copied: &mut usize, already_there: &mut usize, did_copy: bool) {
    if did_copy {
        *copied += 1;
    } else {
        *already_there += 1;
    }
}

/// Copies `key` unless the target has it; a file missing at the source
/// (a photo lost before the copy) is left missing rather than failing all.
async fn copy_file(
    source: &Storage,
    target: &Storage,
    key: &str,
    content_type: &str,
) -> anyhow::Result<bool> {
    match target.get(key).await {
        Ok(_) => return Ok(false),
        Err(StorageError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let body = match source.get(key).await {
        Ok(body) => body,
        Err(StorageError::NotFound(_)) => {
            tracing::warn!(key, "the source has no file for this photo; not copied");
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    // Photos are bounded by uploads.max_bytes, so one is fine in memory.
    let chunks: Vec<bytes::Bytes> = body.stream.try_collect().await?;
    target
        .put_bytes(key, chunks.concat().into(), content_type)
        .await?;
    Ok(true)
}
