//! Integration tests: each spawns the app on a random port against a fresh
//! temporary data directory and drives it over HTTP like a browser.

mod auth;
mod cli;
mod feed;
mod health;
mod helpers;
mod images;
mod photos;
mod restart;
mod shutdown;
mod upload;
