//! Whole-table reads and idempotent inserts, for copying users and photos
//! from one database to another (`photoscale data copy`, and `infra up` when
//! a level changes the database). Rows get new ids in the target; photos
//! keep their order, and a row already there (same username, same photo id)
//! is not copied twice.

use super::{Db, DbError};

/// A user as stored, password hash included.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub username_key: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// A photo as stored, with the id of its uploader in the same database.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoRow {
    pub user_id: i64,
    pub public_id: String,
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

impl Db {
    /// Every user, oldest first.
    pub async fn all_users(&self) -> Result<Vec<UserRow>, DbError> {
        let select =
            "SELECT id, username, username_key, password_hash, created_at FROM users ORDER BY id";
        Ok(sqlx::query_as::<_, UserRow>(select)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every photo, oldest first (the feed's order is the insertion order).
    pub async fn all_photos(&self) -> Result<Vec<PhotoRow>, DbError> {
        let select = "SELECT user_id, public_id, caption, object_key, content_type, size_bytes, \
             width, height, sha256, thumb_key, thumb_type, thumb_sha256, created_at FROM photos ORDER BY id";
        Ok(sqlx::query_as::<_, PhotoRow>(select)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Inserts `user` unless its username exists; returns (its id here, inserted).
    pub async fn import_user(&self, user: &UserRow) -> Result<(i64, bool), DbError> {
        let result = self
            .insert_user_row(
                &user.username,
                &user.username_key,
                &user.password_hash,
                user.created_at,
            )
            .await;
        let inserted = unless_already_there(result)?;
        let select = self.sql("SELECT id FROM users WHERE username_key = ?");
        let (id,): (i64,) = sqlx::query_as(&select)
            .bind(&user.username_key)
            .fetch_one(&self.pool)
            .await?;
        Ok((id, inserted))
    }

    /// Inserts `photo` for `user_id` unless its public id exists; true when inserted.
    pub async fn import_photo(&self, photo: &PhotoRow, user_id: i64) -> Result<bool, DbError> {
        let row = PhotoRow {
            user_id,
            ..photo.clone()
        };
        unless_already_there(self.insert_photo_row(&row).await)
    }
}

/// True when the row was inserted, false when a unique key says it exists.
fn unless_already_there(result: Result<(), sqlx::Error>) -> Result<bool, DbError> {
    match result {
        Ok(()) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
