//! `GET /healthz`: 200 when this instance can serve, 503 when it cannot. The
//! load balancer's health check calls it.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    instance_id: &'a str,
    address: &'a str,
    version: &'static str,
    database: DatabaseHealth,
    /// Reported, but not part of the verdict: without the cache the feed is
    /// read from the database, and a session store outage would take every
    /// instance out of the load balancer at once if it failed the check.
    sessions: DependencyHealth,
    cache: DependencyHealth,
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

pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let reachable = state.db.is_reachable(Duration::from_secs(2)).await;
    let body = Health {
        status: if reachable { "ok" } else { "unavailable" },
        instance_id: &state.instance.id,
        address: &state.instance.address,
        version: env!("CARGO_PKG_VERSION"),
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
    };
    let mut response = if reachable {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("cache-control", "no-store"))
        .json(body)
}
