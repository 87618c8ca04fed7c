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
}

#[derive(Serialize)]
struct DatabaseHealth {
    reachable: bool,
}

pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let reachable = state.db.is_reachable(Duration::from_secs(2)).await;
    let body = Health {
        status: if reachable { "ok" } else { "unavailable" },
        instance_id: &state.instance.id,
        address: &state.instance.address,
        version: env!("CARGO_PKG_VERSION"),
        database: DatabaseHealth { reachable },
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
