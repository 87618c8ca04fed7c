//! Integration tests: each spawns the app on a random port against a fresh
//! temporary data directory and drives it over HTTP like a browser. Backend
//! tests run against real servers that `services` starts on loopback.

mod account;
mod admin;
mod auth;
mod backends;
mod backup;
mod cli;
mod faults;
mod feed;
mod headers;
mod health;
mod helpers;
mod images;
pub mod infra;
mod limits;
mod loadtest;
mod migrations;
mod orphan_sweep;
mod photos;
mod restart;
mod s3_credentials;
mod s3_server;
mod scenario;
mod services;
mod shutdown;
mod two_instances;
mod upload;
