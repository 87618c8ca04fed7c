//! photoscale: a photo-sharing web app built so that every piece that stops a
//! second server from working is pluggable.

pub mod admin_client;
pub mod aws_cmd;
pub mod cli;
pub mod configuration;
pub mod csrf;
pub mod data_copy;
pub mod db;
pub mod domain;
pub mod error;
pub mod feed_cache;
pub mod fleet;
pub mod infra_cmd;
pub mod infra_settings;
pub mod instance;
pub mod latency;
pub mod loadtest;
pub mod memcached;
pub mod middleware;
pub mod page;
pub mod redis_pool;
pub mod routes;
pub mod session;
pub mod session_key;
pub mod session_store;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod templates;
pub mod uploads;
