//! Real servers for the tests, started on loopback on free ports: MariaDB,
//! PostgreSQL, Redis, memcached and an S3-compatible server (moto). Nothing
//! is mocked. A program that is missing fails the test with the command that
//! installs it (`scripts/install-services`); no test is skipped.
//!
//! MariaDB, PostgreSQL and moto are slow to start, so one of each serves the
//! whole test binary and every test gets its own database or bucket. Redis and
//! memcached start in milliseconds, so each test that needs one starts its
//! own and can stop it (fault tests) without disturbing the others.

mod memcached;
mod moto;
mod mysql;
mod postgres;
pub mod process;
pub use process::free_port;
mod redis;

pub use memcached::Memcached;
pub use moto::{s3_bucket, S3Bucket};
pub use mysql::{mariadb_database, MariaDb};
pub use postgres::postgres_database;
pub use redis::Redis;

use std::sync::atomic::{AtomicU32, Ordering};

/// A name no other test in this run uses: "t7_1234".
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id())
}
