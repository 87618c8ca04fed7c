//! Queries on `users`.

use super::{now_millis, Db, DbError};
use crate::domain::Username;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
}

impl Db {
    /// Inserts a user; `UsernameTaken` when the name exists in any letter case.
    pub async fn create_user(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> Result<i64, DbError> {
        let result = sqlx::query(
            "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(username.as_str())
        .bind(username.key())
        .bind(password_hash)
        .bind(now_millis())
        .execute(&self.pool)
        .await;
        match result {
            Ok(done) => Ok(done.last_insert_rowid()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(DbError::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, DbError> {
        let user = sqlx::query_as::<_, UserRecord>(
            "SELECT id, username, password_hash FROM users WHERE username_key = ?",
        )
        .bind(username.key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(user)
    }
}
