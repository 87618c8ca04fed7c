//! Queries on `users`.

use super::{now_millis, Db, DbError};
use crate::domain::Username;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    /// Sessions made under an older generation are no longer valid.
    pub session_generation: i64,
}

impl Db {
    /// Inserts a user and returns its id; `UsernameTaken` when the name exists
    /// in any letter case.
    pub async fn create_user(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> Result<i64, DbError> {
        let key = username.key();
        let insert = self.insert_user_row(username.as_str(), &key, password_hash, now_millis());
        let result = match tokio::time::timeout(self.query_timeout, insert).await {
            Ok(result) => result,
            Err(_) => return Err(DbError::TimedOut(self.query_timeout)),
        };
        match result {
            // The id is read back by the unique key: portable, unlike
            // `RETURNING` (not in MySQL) or last-insert-id (not in PostgreSQL).
            Ok(_) => match self.find_user(username).await? {
                Some(user) => Ok(user.id),
                None => Err(DbError::Query(sqlx::Error::RowNotFound)),
            },
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(DbError::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// The one INSERT of a user: for sign-ups and for copies.
    pub(super) async fn insert_user_row(
        &self,
        username: &str,
        username_key: &str,
        password_hash: &str,
        created_at: i64,
    ) -> Result<(), sqlx::Error> {
        let insert = self.sql(
            "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
        );
        sqlx::query(&insert)
            .bind(username)
            .bind(username_key)
            .bind(password_hash)
            .bind(created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn find_user(&self, username: &Username) -> Result<Option<UserRecord>, DbError> {
        self.within(async {
            let select =
                self.sql("SELECT id, username, password_hash, session_generation FROM users WHERE username_key = ?");
            let user = sqlx::query_as::<_, UserRecord>(&select)
                .bind(username.key())
                .fetch_optional(&self.pool)
                .await?;
            Ok(user)
        })
        .await
    }

    /// The user's current session generation; None when the user is gone.
    pub async fn session_generation(&self, user_id: i64) -> Result<Option<i64>, DbError> {
        self.within(async {
            let select = self.sql("SELECT session_generation FROM users WHERE id = ?");
            let generation = sqlx::query_scalar::<_, i64>(&select)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(generation)
        })
        .await
    }

    /// The user's password hash, by id (for re-authentication).
    pub async fn password_hash(&self, user_id: i64) -> Result<Option<String>, DbError> {
        self.within(async {
            let select = self.sql("SELECT password_hash FROM users WHERE id = ?");
            let hash = sqlx::query_scalar::<_, String>(&select)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(hash)
        })
        .await
    }

    /// Ends every session of the user (the next check refuses them); the
    /// new generation, for the session that stays.
    pub async fn bump_session_generation(&self, user_id: i64) -> Result<i64, DbError> {
        self.within(async {
            let update = self
                .sql("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?");
            sqlx::query(&update)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await?;
        self.session_generation(user_id)
            .await?
            .ok_or(DbError::Query(sqlx::Error::RowNotFound))
    }

    /// A new password, which also ends every session of the user.
    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<i64, DbError> {
        self.within(async {
            let update = self.sql(
                "UPDATE users SET password_hash = ?, session_generation = session_generation + 1 WHERE id = ?",
            );
            sqlx::query(&update)
                .bind(password_hash)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await?;
        self.session_generation(user_id)
            .await?
            .ok_or(DbError::Query(sqlx::Error::RowNotFound))
    }
}
