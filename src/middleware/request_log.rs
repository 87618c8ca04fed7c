//! One log line per request (method, path, status, latency, instance id), the
//! `X-Instance-Id` header and the security headers on every response, and
//! the audit line of a marked one: one layer for all of it, since each
//! middleware layer costs every request a little.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};

use crate::middleware::security_headers::SecurityHeaders;
use crate::state::AppState;

pub const INSTANCE_HEADER: &str = "x-instance-id";

pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let instance_id = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.instance.id.clone())
        .unwrap_or_default();

    // Handlers' errors arrive here as responses already. Only an inner
    // middleware can fail outright; that is logged and passed on. (Holding a
    // clone of the request across the call is not an option: routing needs it
    // uniquely owned.)
    let mut response = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            tracing::warn!(method = %method, path = %path, status, instance_id = %instance_id, error = %e, "request failed in middleware");
            return Err(e);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&instance_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(INSTANCE_HEADER), value);
    }
    if let Some(headers) = response
        .request()
        .app_data::<web::Data<SecurityHeaders>>()
        .cloned()
    {
        headers.apply(response.headers_mut());
    }
    if let Some(event) = crate::audit::marked(&response) {
        let state = response.request().app_data::<web::Data<AppState>>();
        let trusted = state.map(|s| s.settings.server.trusted_proxies.as_slice());
        crate::audit::record(event, &response, trusted.unwrap_or_default());
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        method = %method,
        path = %path,
        status,
        latency_ms = format_args!("{latency_ms:.1}"),
        instance_id = %instance_id,
        "request"
    );
    Ok(response)
}
