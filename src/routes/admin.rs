//! `GET|PUT /admin/latency`: read or change this instance's simulated latency
//! while it runs. Behind `admin.token` (a bearer token); with no token
//! configured the admin API is off. Answers are JSON, errors included.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::abuse_limits::Limited;
use crate::state::AppState;

/// The longest latency accepted: long enough for any demo, short enough that
/// a typo ("3000s" for "3000ms") is caught.
const MAX_LATENCY: Duration = Duration::from_secs(120);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LatencyReport {
    pub instance_id: String,
    pub address: String,
    /// As humantime prints it: "0s", "250ms", "3s".
    pub latency: String,
    pub latency_ms: u64,
}

/// The PUT body: `{"latency": "3s"}` or `{"latency_ms": 3000}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetLatency {
    latency: Option<String>,
    latency_ms: Option<u64>,
}

pub async fn get_latency(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(refusal) = refusal(&req, &state).await {
        return refusal;
    }
    HttpResponse::Ok().json(report(&state))
}

pub async fn set_latency(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refusal) = refusal(&req, &state).await {
        return refusal;
    }
    let latency = match parse_body(&body) {
        Ok(latency) => latency,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, &message),
    };
    let before = state.latency.get();
    state.latency.set(latency);
    tracing::info!(
        before = %humantime::format_duration(before),
        after = %humantime::format_duration(latency),
        "simulated latency changed through the admin API"
    );
    HttpResponse::Ok().json(report(&state))
}

fn report(state: &AppState) -> LatencyReport {
    let latency = state.latency.get();
    LatencyReport {
        instance_id: state.instance.id.clone(),
        address: state.instance.address.clone(),
        latency: humantime::format_duration(latency).to_string(),
        latency_ms: latency.as_millis() as u64,
    }
}

fn parse_body(body: &[u8]) -> Result<Duration, String> {
    const EXAMPLE: &str = r#"send JSON such as {"latency": "3s"} or {"latency_ms": 3000}"#;
    let request: SetLatency = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not valid: {e}; {EXAMPLE}"))?;
    let latency = match (request.latency, request.latency_ms) {
        (Some(text), None) => humantime::parse_duration(text.trim()).map_err(|e| {
            format!("{text:?} is not a duration ({e}); use e.g. \"250ms\", \"3s\" or \"0s\"")
        })?,
        (None, Some(ms)) => Duration::from_millis(ms),
        _ => {
            return Err(format!(
                "give exactly one of latency or latency_ms; {EXAMPLE}"
            ))
        }
    };
    if latency > MAX_LATENCY {
        return Err(format!(
            "{} is longer than the {} maximum",
            humantime::format_duration(latency),
            humantime::format_duration(MAX_LATENCY)
        ));
    }
    Ok(latency)
}

/// The answer for a request without the right bearer token, if it lacks it.
/// The token is compared with `admin.token` through their SHA-256 digests,
/// in constant time: equal-length digests, so neither the token's content
/// nor its length shows in the time a refusal takes.
async fn refusal(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let address = crate::client_address::client_ip(req, &state.settings.server.trusted_proxies);
    let limited: Vec<Limited> = address.map(Limited::AdminAddress).into_iter().collect();
    if let Err(wait) = state.limits.check(&limited).await {
        let mut refusal = json_error(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "too many wrong admin tokens from this address; retry after {} s",
                wait.retry_after.as_secs().max(1)
            ),
        );
        refusal.headers_mut().insert(
            header::RETRY_AFTER,
            wait.retry_after.as_secs().max(1).into(),
        );
        crate::audit::AuditEvent::RateLimited { limit: wait.limit }.mark(&mut refusal);
        return Some(refusal);
    }
    let Some(expected) = &state.settings.admin.token else {
        return Some(json_error(
            StatusCode::FORBIDDEN,
            "the admin API is disabled on this instance; set admin.token (or PHOTOSCALE_ADMIN__TOKEN) to enable it",
        ));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let matches: bool = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.expose_secret().as_bytes()))
        .into();
    if matches {
        None
    } else {
        let mut refusal = json_error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token; send Authorization: Bearer <admin.token>",
        );
        refusal.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"photoscale admin\""),
        );
        crate::audit::AuditEvent::AdminTokenRefused.mark(&mut refusal);
        state.limits.count(&limited).await;
        Some(refusal)
    }
}

fn json_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_parsed_or_explained() {
        assert_eq!(
            parse_body(br#"{"latency": "3s"}"#),
            Ok(Duration::from_secs(3))
        );
        assert_eq!(
            parse_body(br#"{"latency_ms": 250}"#),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(parse_body(br#"{"latency": "0s"}"#), Ok(Duration::ZERO));
        for bad in [
            &br#"{"latency": "fast"}"#[..],
            br#"{"latency": "3s", "latency_ms": 3}"#,
            br#"{}"#,
            br#"{"latency": "1h"}"#,
            br#"{"latncy": "3s"}"#,
            b"3s",
        ] {
            assert!(parse_body(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
