//! A consistent copy of the database in one file, and back, with each
//! engine's own tool:
//!
//! - SQLite: `VACUUM INTO` (an online, transactionally consistent copy);
//!   restored inside one transaction by copying each table from the
//!   attached backup, so a running app never sees half a database;
//! - MariaDB / MySQL: `mariadb-dump --single-transaction` (a consistent
//!   snapshot without locking the tables), restored with `mariadb`;
//! - PostgreSQL: `pg_dump --clean --if-exists`, restored with
//!   `psql --single-transaction`.
//!
//! Passwords go to the tools in their environment (MYSQL_PWD, PGPASSWORD),
//! never on a command line that `ps` shows.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use secrecy::ExposeSecret;
use sqlx::{Connection, Executor};

use super::BackupError;
use crate::db::Engine;

/// The database file's name inside a backup.
pub fn file_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "database.sqlite",
        Engine::MySql | Engine::Postgres => "database.sql",
    }
}

/// Writes a consistent copy of the database at `url` to `dest`.
pub async fn dump(
    engine: Engine,
    url: &secrecy::SecretString,
    dest: &Path,
) -> Result<(), BackupError> {
    match engine {
        Engine::Sqlite => {
            let mut conn = sqlite_connection(url).await?;
            let sql = format!("VACUUM INTO {}", sql_string(dest)?);
            conn.execute(sql.as_str())
                .await
                .map_err(BackupError::database)?;
            Ok(())
        }
        Engine::MySql => {
            let server = Server::parse(url)?;
            let program = tool(&["mariadb-dump", "mysqldump"])?;
            let mut command = tokio::process::Command::new(&program);
            command
                .args(["--single-transaction", "--quick", "--no-tablespaces"])
                .args(server.mysql_args())
                .arg(&server.database)
                .env("MYSQL_PWD", &server.password);
            run_to_file(command, &program, dest).await
        }
        Engine::Postgres => {
            let server = Server::parse(url)?;
            let program = tool(&["pg_dump"])?;
            let mut command = tokio::process::Command::new(&program);
            command
                .args(["--clean", "--if-exists", "--no-owner", "--no-privileges"])
                .args(server.postgres_args())
                .arg("--file")
                .arg(dest)
                .env("PGPASSWORD", &server.password);
            run(command, &program, None).await
        }
    }
}

/// Replaces the database's contents with the copy in `file`.
pub async fn restore(
    engine: Engine,
    url: &secrecy::SecretString,
    file: &Path,
) -> Result<(), BackupError> {
    match engine {
        Engine::Sqlite => restore_sqlite(url, file).await,
        Engine::MySql => {
            let server = Server::parse(url)?;
            let program = tool(&["mariadb", "mysql"])?;
            let mut command = tokio::process::Command::new(&program);
            command
                .args(server.mysql_args())
                .arg(&server.database)
                .env("MYSQL_PWD", &server.password);
            run(command, &program, Some(file)).await
        }
        Engine::Postgres => {
            let server = Server::parse(url)?;
            let program = tool(&["psql"])?;
            let mut command = tokio::process::Command::new(&program);
            command
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
                .args(server.postgres_args())
                .arg("--file")
                .arg(file)
                .env("PGPASSWORD", &server.password);
            run(command, &program, None).await
        }
    }
}

/// Copies every table of the backup into the live database in one
/// transaction, after checking both were made by the same migrations.
async fn restore_sqlite(url: &secrecy::SecretString, file: &Path) -> Result<(), BackupError> {
    let mut conn = sqlite_connection(url).await?;
    let attach = format!("ATTACH DATABASE {} AS backup", sql_string(file)?);
    conn.execute(attach.as_str())
        .await
        .map_err(BackupError::database)?;
    let versions = |schema: &str| {
        format!("SELECT group_concat(version, ',') FROM (SELECT version FROM {schema}._sqlx_migrations ORDER BY version)")
    };
    let ours: Option<String> = sqlx::query_scalar(&versions("main"))
        .fetch_one(&mut conn)
        .await
        .map_err(BackupError::database)?;
    let theirs: Option<String> = sqlx::query_scalar(&versions("backup"))
        .fetch_one(&mut conn)
        .await
        .map_err(BackupError::database)?;
    if ours != theirs {
        return Err(BackupError::SchemaDiffers {
            backup: theirs.unwrap_or_default(),
            database: ours.unwrap_or_default(),
        });
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM backup.sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(BackupError::database)?;
    // Rows refer to each other (photos to users), and tables are copied
    // one at a time: the references are checked once all are in, before
    // the commit (SQLite cannot defer this switch inside a transaction).
    conn.execute("PRAGMA foreign_keys = OFF")
        .await
        .map_err(BackupError::database)?;
    let copied = copy_tables(&mut conn, &tables).await;
    conn.execute("PRAGMA foreign_keys = ON")
        .await
        .map_err(BackupError::database)?;
    copied?;
    conn.execute("DETACH DATABASE backup")
        .await
        .map_err(BackupError::database)?;
    Ok(())
}

async fn copy_tables(
    conn: &mut sqlx::SqliteConnection,
    tables: &[String],
) -> Result<(), BackupError> {
    let mut tx = conn.begin().await.map_err(BackupError::database)?;
    for table in tables {
        let name = quote_identifier(table);
        tx.execute(format!("DELETE FROM main.{name}").as_str())
            .await
            .map_err(BackupError::database)?;
        tx.execute(format!("INSERT INTO main.{name} SELECT * FROM backup.{name}").as_str())
            .await
            .map_err(BackupError::database)?;
    }
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *tx)
        .await
        .map_err(BackupError::database)?;
    if let Some((table,)) = broken.first() {
        return Err(BackupError::Invalid(format!(
            "the backup's rows in {table} refer to rows it does not have; nothing was restored"
        )));
    }
    tx.commit().await.map_err(BackupError::database)
}

async fn sqlite_connection(
    url: &secrecy::SecretString,
) -> Result<sqlx::SqliteConnection, BackupError> {
    sqlx::SqliteConnection::connect(url.expose_secret())
        .await
        .map_err(BackupError::database)
}

/// A path as an SQL string literal.
fn sql_string(path: &Path) -> Result<String, BackupError> {
    let text = path
        .to_str()
        .ok_or_else(|| BackupError::Invalid(format!("{} is not UTF-8", path.display())))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where and as whom to reach a database server, from its URL.
struct Server {
    host: String,
    port: Option<u16>,
    user: String,
    password: String,
    database: String,
}

impl Server {
    fn parse(url: &secrecy::SecretString) -> Result<Self, BackupError> {
        let bad = || {
            BackupError::Invalid("database.url is not a server URL (mysql://USER:PASSWORD@HOST:PORT/DB or postgres://...)".into())
        };
        let parsed = url::Url::parse(url.expose_secret()).map_err(|_| bad())?;
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8_lossy()
                .into_owned()
        };
        let database = decode(parsed.path().trim_start_matches('/'));
        if database.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            host: parsed.host_str().unwrap_or("127.0.0.1").to_owned(),
            port: parsed.port(),
            user: decode(parsed.username()),
            password: parsed.password().map(decode).unwrap_or_default(),
            database,
        })
    }

    fn mysql_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--host={}", self.host),
            format!("--user={}", self.user),
            // TCP even for localhost, where the clients would try a socket.
            "--protocol=TCP".into(),
        ];
        if let Some(port) = self.port {
            args.push(format!("--port={port}"));
        }
        args
    }

    fn postgres_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--host={}", self.host),
            format!("--username={}", self.user),
            format!("--dbname={}", self.database),
            "--no-password".into(),
        ];
        if let Some(port) = self.port {
            args.push(format!("--port={port}"));
        }
        args
    }
}

/// The first of `names` installed: on PATH, in the sbin directories, or
/// (PostgreSQL's clients) under /usr/lib/postgresql/VERSION/bin.
fn tool(names: &[&str]) -> Result<PathBuf, BackupError> {
    for name in names {
        if let Some(path) = photoscale_infra::doctor::find_program(name) {
            return Ok(path);
        }
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.is_file())
            .collect();
        versions.sort();
        if let Some(newest) = versions.pop() {
            return Ok(newest);
        }
    }
    Err(BackupError::ToolMissing(names.join(" or ")))
}

async fn run_to_file(
    mut command: tokio::process::Command,
    program: &Path,
    dest: &Path,
) -> Result<(), BackupError> {
    let file = std::fs::File::create(dest).map_err(|e| BackupError::io(dest, e))?;
    command.stdin(Stdio::null()).stdout(Stdio::from(file));
    finish(command, program).await
}

/// Runs a tool to the end, reading `stdin` when given.
async fn run(
    mut command: tokio::process::Command,
    program: &Path,
    stdin: Option<&Path>,
) -> Result<(), BackupError> {
    if let Some(path) = stdin {
        let file = std::fs::File::open(path).map_err(|e| BackupError::io(path, e))?;
        command.stdin(Stdio::from(file));
    } else {
        command.stdin(Stdio::null());
    }
    command.stdout(Stdio::null());
    finish(command, program).await
}

/// Waits for the tool; its stderr becomes the error when it fails.
async fn finish(mut command: tokio::process::Command, program: &Path) -> Result<(), BackupError> {
    command.stderr(Stdio::piped()).kill_on_drop(true);
    let output = command
        .spawn()
        .map_err(|e| BackupError::io(program, e))?
        .wait_with_output()
        .await
        .map_err(|e| BackupError::io(program, e))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(BackupError::ToolFailed {
        program: program.display().to_string(),
        status: output.status.to_string(),
        stderr: stderr
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_read_with_their_escapes() {
        let url = secrecy::SecretString::from("mysql://photo%40scale:p%2Fss@127.0.0.1:3307/photos");
        let server = Server::parse(&url).unwrap();
        assert_eq!(server.user, "photo@scale");
        assert_eq!(server.password, "p/ss");
        assert_eq!(server.database, "photos");
        assert!(server.mysql_args().contains(&"--port=3307".to_owned()));
        assert!(
            !server.mysql_args().iter().any(|a| a.contains("p/ss")),
            "the password never goes on the command line"
        );
        let no_db = secrecy::SecretString::from("postgres://u@127.0.0.1:5432/");
        assert!(Server::parse(&no_db).is_err());
    }

    #[test]
    fn paths_and_names_are_quoted_for_sql() {
        assert_eq!(
            sql_string(Path::new("/tmp/it's.db")).unwrap(),
            "'/tmp/it''s.db'"
        );
        assert_eq!(quote_identifier("we\"ird"), "\"we\"\"ird\"");
    }
}
