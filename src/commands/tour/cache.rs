//! Level 4 of the tour: the feed cache. The same load runs before (level 3,
//! every page a database query) and after (level 4, the feed from
//! memcached); the tour counts the database's SELECTs a second (MariaDB's
//! `Com_select`) and memcached's hit ratio (`stats`) over each run.

use std::time::Duration;

use anyhow::Context;
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::outcome::Outcome;
use super::scaling::FAST_SCALING;
use super::stack::TourStack;
use crate::commands::loadtest::{self, Arrivals};

const LOAD: Duration = Duration::from_secs(6);

pub async fn level_4(stack: &TourStack) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::new("level 4: a cache between the web tier and the database");
    let before = reads_per_second(stack).await?;
    stack.up(4, &FAST_SCALING).await?;
    let hits_before = memcached_hits(stack).await?;
    let after = reads_per_second(stack).await?;
    let hits_after = memcached_hits(stack).await?;
    let (hits, misses) = (hits_after.0 - hits_before.0, hits_after.1 - hits_before.1);
    let ratio = hits as f64 / (hits + misses).max(1) as f64;
    outcome.check(
        after < before / 4.0,
        format!(
            "the same load of feed pages: {before:.0} database reads a second without the cache, {after:.0} with it"
        ),
    );
    outcome.check(
        ratio > 0.9,
        format!("memcached answered {hits} gets from the cache and missed {misses}: a hit ratio of {:.1} %", ratio * 100.0),
    );
    Ok(outcome)
}

/// `Com_select` a second on the stack's MariaDB during a short feed load.
async fn reads_per_second(stack: &TourStack) -> anyhow::Result<f64> {
    let url = stack
        .app_setting("database", "url")
        .context("the stack has no database URL")?;
    let mut db = sqlx::MySqlConnection::connect(&url)
        .await
        .context("connecting to the stack's MariaDB")?;
    let start = selects(&mut db).await?;
    let report = loadtest::run(&loadtest::Options {
        url: stack.url(),
        duration: LOAD,
        arrivals: Arrivals::Closed { concurrency: 4 },
        mix: "feed=1".parse().map_err(anyhow::Error::msg)?,
        path: None,
        log_in: false,
        flips: Vec::new(),
        state_dir: stack.state_dir.clone(),
    })
    .await?;
    let end = selects(&mut db).await?;
    Ok((end - start) / report.duration_s.max(0.1))
}

/// The server's count of SELECT statements so far.
async fn selects(db: &mut sqlx::MySqlConnection) -> anyhow::Result<f64> {
    let (_, value): (String, String) = sqlx::query_as("SHOW GLOBAL STATUS LIKE 'Com_select'")
        .fetch_one(db)
        .await?;
    Ok(value.parse()?)
}

/// memcached's (get_hits, get_misses) on the feed cache's server.
async fn memcached_hits(stack: &TourStack) -> anyhow::Result<(u64, u64)> {
    let url = stack
        .app_setting("cache", "url")
        .context("the stack has no cache URL")?;
    let address = url
        .trim_start_matches("memcache://")
        .trim_end_matches('/')
        .to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address)
        .await
        .with_context(|| format!("connecting to memcached at {address}"))?;
    connection.write_all(b"stats\r\n").await?;
    let mut text = String::new();
    let mut buffer = [0u8; 4096];
    while !text.ends_with("END\r\n") {
        let n = connection.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "memcached closed the connection");
        text.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let stat = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("STAT {name} ")))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((stat("get_hits"), stat("get_misses")))
}
