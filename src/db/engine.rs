//! What differs between the three database engines, in one place.

use std::borrow::Cow;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    MySql,
    Postgres,
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/mysql");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

impl Engine {
    /// The engine a URL names, from its scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "mysql" | "mariadb" => Some(Self::MySql),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::MySql => "MySQL/MariaDB",
            Self::Postgres => "PostgreSQL",
        }
    }

    pub fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::MySql => &MYSQL_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// PostgreSQL numbers its placeholders (`$1`); the others use `?`. Our
    /// queries never contain a literal `?`, so a plain rewrite is safe.
    pub fn placeholders(self, sql: &str) -> Cow<'_, str> {
        if self != Self::Postgres || !sql.contains('?') {
            return Cow::Borrowed(sql);
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }
}

/// Errors that mean the server is down, restarting or unreachable, not that
/// the query is wrong: they may go away by themselves (the pool reconnects).
pub fn is_connection_level(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => is_connection_error(db.as_ref()),
        _ => false,
    }
}

/// Server errors that mean "the server is going away", not "your query is
/// wrong": MySQL's shutdown/connection codes and PostgreSQL's class 08 and 57P.
pub fn is_connection_error(error: &dyn DatabaseError) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    let code = code.as_ref();
    let shutting_down =
        code == "HY000" && error.message().to_ascii_lowercase().contains("shutdown");
    code.starts_with("08") || code.starts_with("57P") || shutting_down
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_follows_the_scheme() {
        assert_eq!(Engine::from_url("sqlite://data/x.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::from_url("mysql://u:p@h/db"), Some(Engine::MySql));
        assert_eq!(Engine::from_url("mariadb://u:p@h/db"), Some(Engine::MySql));
        assert_eq!(Engine::from_url("postgres://h/db"), Some(Engine::Postgres));
        assert_eq!(
            Engine::from_url("postgresql://h/db"),
            Some(Engine::Postgres)
        );
        assert_eq!(Engine::from_url("oracle://h/db"), None);
    }

    #[test]
    fn only_postgres_numbers_placeholders() {
        let sql = "SELECT a FROM t WHERE b = ? AND c = ?";
        assert_eq!(Engine::MySql.placeholders(sql), sql);
        assert_eq!(Engine::Sqlite.placeholders(sql), sql);
        assert_eq!(
            Engine::Postgres.placeholders(sql),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }
}
