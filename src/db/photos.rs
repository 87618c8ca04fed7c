//! Queries on `photos`.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::{now_millis, Db, DbError, PhotoRow};
use crate::domain::PhotoId;

/// What an upload stores about a photo.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub public_id: PhotoId,
    pub user_id: i64,
    pub caption: Option<String>,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    pub thumb_key: String,
    pub thumb_type: String,
    pub thumb_sha256: String,
}

/// A stored photo with its uploader's name, as the feed and photo page show it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct PhotoRecord {
    pub public_id: String,
    pub username: String,
    pub caption: Option<String>,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    pub thumb_key: String,
    pub thumb_type: String,
    pub thumb_sha256: String,
    pub created_at: i64,
}

const SELECT_PHOTO: &str = "SELECT p.public_id, u.username, p.caption, p.object_key, p.content_type, \
     p.size_bytes, p.width, p.height, p.sha256, p.thumb_key, p.thumb_type, p.thumb_sha256, p.created_at \
     FROM photos p JOIN users u ON u.id = p.user_id";

/// The newest photos. The derived table has every engine read just `limit`
/// rows of `photos` by primary key, then look their users up: given the
/// plain join, MariaDB scans `users`, joins every photo and sorts them all
/// (EXPLAIN: "Using temporary; Using filesort"), which halved the feed's
/// rate at 200 photos and grows with their number.
static LATEST_PHOTOS: LazyLock<String> = LazyLock::new(|| {
    SELECT_PHOTO.replace(
        "FROM photos p",
        "FROM (SELECT * FROM photos ORDER BY id DESC LIMIT ?) p",
    ) + " ORDER BY p.id DESC"
});

/// SQLite plans the plain join well (a backward scan of `photos`, stopped
/// after `limit` rows) and would materialise the derived table instead.
pub(super) static LATEST_PHOTOS_SQLITE: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_PHOTO} ORDER BY p.id DESC LIMIT ?"));

pub(super) static PHOTO_BY_PUBLIC_ID: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_PHOTO} WHERE p.public_id = ?"));

impl Db {
    pub async fn insert_photo(&self, photo: &NewPhoto) -> Result<(), DbError> {
        let row = PhotoRow {
            user_id: photo.user_id,
            public_id: photo.public_id.as_str().to_owned(),
            caption: photo.caption.clone(),
            object_key: photo.object_key.clone(),
            content_type: photo.content_type.clone(),
            size_bytes: photo.size_bytes,
            width: photo.width,
            height: photo.height,
            sha256: photo.sha256.clone(),
            thumb_key: photo.thumb_key.clone(),
            thumb_type: photo.thumb_type.clone(),
            thumb_sha256: photo.thumb_sha256.clone(),
            created_at: now_millis(),
        };
        self.within(async { Ok(self.insert_photo_row(&row).await?) })
            .await
    }

    /// The one INSERT of a photo: for uploads and for copies.
    pub(super) async fn insert_photo_row(&self, photo: &PhotoRow) -> Result<(), sqlx::Error> {
        let insert = self.sql(
            "INSERT INTO photos (public_id, user_id, caption, object_key, content_type, size_bytes, \
             width, height, sha256, thumb_key, thumb_type, thumb_sha256, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&insert)
            .bind(&photo.public_id)
            .bind(photo.user_id)
            .bind(&photo.caption)
            .bind(&photo.object_key)
            .bind(&photo.content_type)
            .bind(photo.size_bytes)
            .bind(photo.width)
            .bind(photo.height)
            .bind(&photo.sha256)
            .bind(&photo.thumb_key)
            .bind(&photo.thumb_type)
            .bind(&photo.thumb_sha256)
            .bind(photo.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest `limit` photos, newest first.
    pub async fn latest_photos(&self, limit: u32) -> Result<Vec<PhotoRecord>, DbError> {
        self.within(async {
            if let Some(reads) = &self.sqlite_reads {
                return reads.latest_photos(limit).await;
            }
            let photos = sqlx::query_as::<_, PhotoRecord>(&self.sql(&LATEST_PHOTOS))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            Ok(photos)
        })
        .await
    }

    pub async fn find_photo(&self, id: &PhotoId) -> Result<Option<PhotoRecord>, DbError> {
        self.within(async {
            if let Some(reads) = &self.sqlite_reads {
                return reads.find_photo(id.as_str()).await;
            }
            let photo = sqlx::query_as::<_, PhotoRecord>(&self.sql(&PHOTO_BY_PUBLIC_ID))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
            Ok(photo)
        })
        .await
    }

    /// The object keys (original and thumbnail) of the photos among
    /// `public_ids` that have a row: what the orphan sweep must keep.
    pub async fn stored_keys_of(&self, public_ids: &[&str]) -> Result<HashSet<String>, DbError> {
        if public_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let marks = vec!["?"; public_ids.len()].join(", ");
        let select =
            format!("SELECT object_key, thumb_key FROM photos WHERE public_id IN ({marks})");
        self.within(async {
            let select = self.sql(&select);
            let mut query = sqlx::query_as::<_, (String, String)>(&select);
            for id in public_ids {
                query = query.bind(*id);
            }
            let rows = query.fetch_all(&self.pool).await?;
            Ok(rows.into_iter().flat_map(|(a, b)| [a, b]).collect())
        })
        .await
    }
}
