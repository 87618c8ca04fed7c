//! The fleet view's controls: flip latency on one instance or all, kill an
//! instance, start and stop a load. Read-only without a control session.
//!
//! A session starts when the page sends a one-time code (control_code.rs)
//! to `POST /fleet/session`; the answer sets an HttpOnly, SameSite=Strict
//! cookie holding a random session id, known only to this process. Every
//! control is a POST (or DELETE) that needs that cookie and, against
//! cross-site requests, the session's CSRF token in an `X-CSRF-Token`
//! header, which the page reads from `GET /fleet/control` (same origin
//! only: the view allows no cross-origin reads). The cookie is not `Secure`
//! because the view is plain HTTP on loopback.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::control_code;
use super::load::{self, Load};

const COOKIE: &str = "fleet_control";
const CSRF_HEADER: &str = "x-csrf-token";
/// A control session lasts a working day; then a new link is needed.
const SESSION_LIFE: Duration = Duration::from_secs(12 * 60 * 60);
/// The longest latency the controls set (the instances accept up to 120 s;
/// more than this only makes the page wait on itself).
const MAX_LATENCY_MS: u64 = 30_000;
/// What the page keeps of the controls' own actions, for the chart.
const ACTIONS_KEPT: usize = 20;

struct Session {
    csrf: String,
    expires: Instant,
}

/// An action taken from the view, shown beside the autoscaler's events.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// Unix milliseconds.
    pub at: u64,
    pub text: String,
}

pub struct Control {
    state_dir: PathBuf,
    /// By the SHA-256 of the session id the cookie carries.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    actions: Mutex<Vec<Action>>,
    load: Load,
}

impl Control {
    pub fn new(state_dir: PathBuf) -> Self {
        Self {
            state_dir,
            sessions: Mutex::default(),
            actions: Mutex::default(),
            load: Load::default(),
        }
    }

    /// The recent actions and the running load, for `/fleet.json`.
    pub fn view(&self) -> serde_json::Value {
        let actions = self.actions.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::json!({ "actions": *actions, "load": self.load.current() })
    }

    /// Ends a load started from the page. Blocking: call it off the runtime.
    pub fn stop_load(&self) {
        self.load.stop();
    }

    fn record(&self, text: String) {
        tracing::info!(action = %text, "fleet view control");
        let mut actions = self.actions.lock().unwrap_or_else(|p| p.into_inner());
        actions.push(Action {
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            text,
        });
        let excess = actions.len().saturating_sub(ACTIONS_KEPT);
        actions.drain(..excess);
    }

    /// The session the request's cookie names, if it is live.
    fn session_csrf(&self, req: &HttpRequest) -> Option<String> {
        let id = req.cookie(COOKIE)?;
        let key: [u8; 32] = Sha256::digest(id.value().as_bytes()).into();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.get(&key).map(|s| s.csrf.clone())
    }

    /// Refuses a request without a live session and its CSRF token.
    fn check(&self, req: &HttpRequest) -> Result<(), Refusal> {
        let Some(csrf) = self.session_csrf(req) else {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "the controls need the link that `photoscale infra up` prints (it works once); this view is read-only without it",
            ));
        };
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !crate::csrf::tokens_match(&csrf, sent) {
            return Err(error(
                StatusCode::FORBIDDEN,
                "missing or wrong X-CSRF-Token header; reload the page",
            ));
        }
        Ok(())
    }
}

/// A refused control: its status and a message that says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Refusal {
    status: StatusCode,
    message: String,
}

impl actix_web::ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(serde_json::json!({ "error": self.message }))
    }
}

fn error(status: StatusCode, message: &str) -> Refusal {
    Refusal {
        status,
        message: message.to_owned(),
    }
}

fn busy(_: actix_web::error::BlockingError) -> Refusal {
    error(StatusCode::SERVICE_UNAVAILABLE, "busy; try again")
}

fn done(text: &str) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "done": text }))
}

/// The body as JSON of type T, or a 400 that says what was wrong.
fn parse<T: DeserializeOwned>(body: &[u8], example: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            &format!("the body is not valid: {e}; send JSON such as {example}"),
        )
    })
}

/// The routes under `/fleet` that the controls add.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/fleet/session", web::post().to(start_session))
        .route("/fleet/control", web::get().to(control_state))
        .route("/fleet/latency", web::post().to(set_latency))
        .route("/fleet/kill", web::post().to(kill))
        .route("/fleet/load", web::post().to(start_load))
        .route("/fleet/load", web::delete().to(stop_load));
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

/// Exchanges a one-time code for a control session (cookie).
async fn start_session(
    control: web::Data<Control>,
    body: web::Bytes,
) -> Result<HttpResponse, Refusal> {
    let request: CodeBody = parse(&body, r#"{"code": "…"}"#)?;
    let dir = control.state_dir.clone();
    // Redeeming is a file's removal: off the runtime.
    web::block(move || control_code::redeem(&dir, request.code.trim()))
        .await
        .map_err(busy)?
        .map_err(|refused| error(StatusCode::FORBIDDEN, &refused.to_string()))?;
    let id = crate::csrf::new_token();
    let csrf = crate::csrf::new_token();
    let session = Session {
        csrf: csrf.clone(),
        expires: Instant::now() + SESSION_LIFE,
    };
    control
        .sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(Sha256::digest(id.as_bytes()).into(), session);
    control.record("controls unlocked with a one-time link".into());
    let cookie = Cookie::build(COOKIE, id)
        .path("/fleet")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .json(serde_json::json!({ "control": true, "csrf": csrf })))
}

/// Whether this browser holds a control session, and its CSRF token.
async fn control_state(control: web::Data<Control>, req: HttpRequest) -> HttpResponse {
    let limits = serde_json::json!({
        "max_rate": load::MAX_RATE,
        "max_latency_ms": MAX_LATENCY_MS,
    });
    match control.session_csrf(&req) {
        Some(csrf) => HttpResponse::Ok()
            .json(serde_json::json!({ "control": true, "csrf": csrf, "limits": limits })),
        None => HttpResponse::Ok().json(serde_json::json!({ "control": false, "limits": limits })),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyBody {
    /// An instance id, or "all".
    instance: String,
    latency_ms: u64,
}

async fn set_latency(
    control: web::Data<Control>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Refusal> {
    control.check(&req)?;
    let request: LatencyBody = parse(&body, r#"{"instance": "i-1", "latency_ms": 1500}"#)?;
    if request.latency_ms > MAX_LATENCY_MS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            &format!(
                "{} ms is more than the controls set (at most {MAX_LATENCY_MS} ms)",
                request.latency_ms
            ),
        ));
    }
    let target = (request.instance != "all").then_some(request.instance.as_str());
    let latency = Duration::from_millis(request.latency_ms);
    let ids = crate::commands::admin_client::set_stack_latency(&control.state_dir, target, latency)
        .await
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("{e:#}")))?;
    let text = format!(
        "latency of {} set to {} ms",
        ids.join(", "),
        request.latency_ms
    );
    control.record(text.clone());
    Ok(done(&text))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillBody {
    instance: String,
}

async fn kill(
    control: web::Data<Control>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Refusal> {
    control.check(&req)?;
    let request: KillBody = parse(&body, r#"{"instance": "i-2"}"#)?;
    let dir = control.state_dir.clone();
    let id = request.instance.clone();
    // The stack's state is a file: off the runtime.
    let pid = web::block(move || photoscale_infra::local::kill_instance(&dir, &id))
        .await
        .map_err(busy)?
        .map_err(|e| error(StatusCode::BAD_REQUEST, &e.to_string()))?;
    control.record(format!("{} killed", request.instance));
    Ok(done(&format!(
        "{} killed (SIGKILL to pid {pid}); at level 3 and up the autoscaler replaces it, below that `infra up` restarts it",
        request.instance
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    rate: u32,
}

async fn start_load(
    control: web::Data<Control>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Refusal> {
    control.check(&req)?;
    let request: LoadBody = parse(&body, r#"{"rate": 20}"#)?;
    if !(1..=load::MAX_RATE).contains(&request.rate) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            &format!(
                "{} requests a second is out of range; choose 1 to {}",
                request.rate,
                load::MAX_RATE
            ),
        ));
    }
    // Read now, not from the last sample: the stack may have just come up.
    let status = photoscale_infra::local::status(&control.state_dir).await;
    let url = status.ok().and_then(|s| s.url).ok_or_else(|| {
        error(
            StatusCode::CONFLICT,
            "the stack is not running; start it with `photoscale infra up`",
        )
    })?;
    let control = control.into_inner();
    let starter = control.clone();
    web::block(move || starter.load.start(&starter.state_dir, &url, request.rate))
        .await
        .map_err(busy)?
        .map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("could not start the load: {e}"),
            )
        })?;
    let text = format!("load started: {} requests a second", request.rate);
    control.record(text.clone());
    Ok(done(&format!(
        "{text}; its output goes to {}",
        Load::log(&control.state_dir).display()
    )))
}

async fn stop_load(control: web::Data<Control>, req: HttpRequest) -> Result<HttpResponse, Refusal> {
    control.check(&req)?;
    let control = control.into_inner();
    let stopper = control.clone();
    if !web::block(move || stopper.load.stop())
        .await
        .map_err(busy)?
    {
        return Ok(done("no load was running"));
    }
    control.record("load stopped".into());
    Ok(done("load stopped"))
}
