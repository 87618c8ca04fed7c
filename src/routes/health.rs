//! `GET /healthz`: 200 when this instance can serve, 503 when it cannot. The
//! load balancer's health check calls it; the answer comes from the
//! background check (`health_check`), at most a second old.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let (healthy, body) = match state.health.current() {
        Ok(latest) => (latest.healthy, latest.body.clone()),
        Err(stale) => (
            false,
            crate::health_check::stale_body(&state, stale.started),
        ),
    };
    let mut response = if healthy {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(ContentType::json())
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(body)
}
