//! The instance's health, checked in the background and served from the
//! last check: `/healthz` is what a load balancer polls, and it must be
//! cheap to answer at any rate while still noticing a lost database fast.
//!
//! Every `INTERVAL` a check pings the database (and reads whether the
//! session store and the feed cache answered lately) and stores the JSON
//! body it would answer with. A request answers from the newest check, but
//! only while that check started within `FRESH_FOR`: a database that hangs
//! (so the ping neither succeeds nor fails) turns the answer into a 503
//! within a second all the same.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;

use crate::health_status::{Snapshot, FRESH_FOR};
use crate::state::AppState;

/// How often the database is pinged.
pub const INTERVAL: Duration = Duration::from_millis(500);

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    instance_id: &'a str,
    address: &'a str,
    version: &'static str,
    /// Which build: version, commit and build time (see `build_info`).
    build: &'static str,
    database: DatabaseHealth,
    /// Reported, but not part of the verdict: without the cache the feed is
    /// read from the database, and a session store outage would take every
    /// instance out of the load balancer at once if it failed the check.
    sessions: DependencyHealth,
    cache: DependencyHealth,
    /// Set when the newest check is too old to vouch for the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Serialize)]
struct DatabaseHealth {
    engine: crate::db::Engine,
    reachable: bool,
}

#[derive(Serialize)]
struct DependencyHealth {
    backend: String,
    /// False after the last call to it failed.
    available: bool,
}

/// The body to answer with when the newest check is too old.
pub fn stale_body(state: &AppState, started: Instant) -> Bytes {
    let problem = format!(
        "the last database check started {} ms ago and has not finished",
        started.elapsed().as_millis()
    );
    body(state, false, Some(problem))
}

/// Checks now and keeps the result.
pub async fn refresh(state: &AppState) {
    let snapshot = check(state).await;
    state.health.store(snapshot);
}

/// Checks again every `INTERVAL` for as long as the app state lives.
pub fn keep_checking(state: &Arc<AppState>) {
    let state: Weak<AppState> = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(state) = state.upgrade() else { return };
            refresh(&state).await;
        }
    });
}

async fn check(state: &AppState) -> Snapshot {
    let started = Instant::now();
    let reachable = state.db.is_reachable(FRESH_FOR).await;
    Snapshot {
        started,
        healthy: reachable,
        body: body(state, reachable, None),
    }
}

fn body(state: &AppState, reachable: bool, problem: Option<String>) -> Bytes {
    let health = Health {
        status: if reachable { "ok" } else { "unavailable" },
        instance_id: &state.instance.id,
        address: &state.instance.address,
        version: env!("CARGO_PKG_VERSION"),
        build: crate::build_info::BUILD_ID,
        database: DatabaseHealth {
            engine: state.db.engine(),
            reachable,
        },
        sessions: DependencyHealth {
            backend: format!("{:?}", state.settings.sessions.backend).to_lowercase(),
            available: !state.session_health.is_down(),
        },
        cache: DependencyHealth {
            backend: state.feed_cache.describe().to_owned(),
            available: !state.feed_cache.is_down(),
        },
        problem,
    };
    serde_json::to_vec(&health)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(b"{\"status\":\"unavailable\"}"))
}
