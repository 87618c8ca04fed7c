//! `photoscale infra fleet`: a live view of a local stack for a browser, the
//! picture to watch while a load test runs. `GET /fleet` is the page,
//! `GET /fleet.json` what it polls: the instances (state, address, latency
//! setting, health), the alarms, the last scaling events, and a history of
//! the load balancer's average response time and the instances in service.
//! With a control session (control.rs) the page also flips latency, kills
//! instances and starts a load.

mod control;
pub mod control_code;
mod history;
mod load;
pub mod tour_step;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use photoscale_infra::local;

use control::Control;
use history::History;

/// How many recent scaling events the page shows.
const EVENTS: usize = 20;

/// What `/fleet.json` answers. Only the sampler reads the stack; requests
/// read this, so any number of watching browsers costs no I/O.
#[derive(Default)]
struct Fleet {
    /// The last status and events as JSON, or why they could not be read.
    latest: Option<Result<serde_json::Value, String>>,
    history: History,
}

type Shared = Arc<Mutex<Fleet>>;

/// Serves the view until interrupted.
pub async fn serve(state_dir: PathBuf, bind: SocketAddr) -> anyhow::Result<()> {
    let fleet: Shared = Arc::default();
    let in_service = refresh(&state_dir, &fleet).await; // the first answer is a real one
    tokio::spawn(sample(state_dir.clone(), fleet.clone(), in_service));
    let fleet = web::Data::from(fleet);
    let control = web::Data::new(Control::new(state_dir));
    let for_server = control.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(fleet.clone())
            .app_data(for_server.clone())
            .configure(control::routes)
            .route("/fleet", web::get().to(page))
            .route("/fleet.json", web::get().to(snapshot))
            .route(
                "/static/{file:.*}",
                web::get().to(crate::routes::assets::serve),
            )
            .route("/", web::get().to(|| async { see_fleet() }))
    })
    .workers(1)
    .bind(bind)
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {bind}: {e}\n  fix: choose another --bind, e.g. 127.0.0.1:0"
        )
    })?;
    for address in server.addrs() {
        println!("Fleet view: http://{address}/fleet");
    }
    let served = server.run().await;
    // A load started from the page ends with the page's server.
    let stopper = control.into_inner();
    let _ = tokio::task::spawn_blocking(move || stopper.stop_load()).await;
    Ok(served?)
}

/// A link that unlocks the controls of the view at `address` for the stack
/// in `state_dir`: it carries a fresh one-time code (see control_code.rs).
pub fn control_link(state_dir: &std::path::Path, address: SocketAddr) -> std::io::Result<String> {
    let code = control_code::issue(state_dir)?;
    Ok(format!("http://{address}/fleet#code={code}"))
}

/// What `infra up` and the tour print about the fleet view: its address and,
/// when `with_link`, a one-time link to its controls.
pub fn describe_view(state_dir: &std::path::Path, address: SocketAddr, with_link: bool) -> String {
    let mut text = format!("Fleet view: http://{address}/fleet (read-only)\n");
    if !with_link {
        return text;
    }
    match control_link(state_dir, address) {
        Ok(link) => text.push_str(&format!(
            "  its controls (flip latency, kill an instance, start a load): {link}\n  (the link works once, within {} minutes; `infra up` again prints a new one)\n",
            control_code::VALID_FOR.as_secs() / 60
        )),
        Err(e) => text.push_str(&format!("  (no link to its controls: {e})\n")),
    }
    text
}

fn see_fleet() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", "/fleet"))
        .finish()
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
        ))
        .body(include_str!("../../../templates/fleet.html"))
}

async fn snapshot(fleet: web::Data<Mutex<Fleet>>, control: web::Data<Control>) -> HttpResponse {
    let fleet = fleet.lock().expect("fleet lock");
    match &fleet.latest {
        Some(Ok(latest)) => {
            let mut body = latest.clone();
            body["history"] = serde_json::json!(fleet.history.samples());
            body["control"] = control.view();
            HttpResponse::Ok().json(body)
        }
        Some(Err(e)) => HttpResponse::ServiceUnavailable().json(serde_json::json!({ "error": e })),
        None => HttpResponse::ServiceUnavailable().json(serde_json::json!({ "error": "starting" })),
    }
}

/// Reads the stack's status and recent events into `fleet`; returns how many
/// instances the load balancer has in service.
async fn refresh(state_dir: &std::path::Path, fleet: &Shared) -> usize {
    let status = local::status(state_dir).await;
    let dir = state_dir.to_owned();
    // Both are file reads: off the runtime.
    let (events, tour) = tokio::task::spawn_blocking(move || {
        (local::autoscaler::read_events(&dir), tour_step::read(&dir))
    })
    .await
    .unwrap_or_default();
    let events = &events[events.len().saturating_sub(EVENTS)..];
    let (latest, in_service) = match status {
        Ok(status) => {
            let up = status
                .instances
                .iter()
                .filter(|i| i.load_balancer.as_deref() == Some("UP"))
                .count();
            (
                Ok(serde_json::json!({
                    "status": status,
                    "events": events,
                    // The step `photoscale tour` is on, when a tour runs this stack.
                    "tour": tour,
                })),
                up,
            )
        }
        Err(e) => (Err(e.to_string()), 0),
    };
    fleet.lock().expect("fleet lock").latest = Some(latest);
    in_service
}

/// Once a second: the response times that arrived (their average and p99), and how
/// many instances the load balancer has in service (read every other second).
async fn sample(state_dir: PathBuf, fleet: Shared, mut in_service: usize) {
    let mut times = local::response_times(&state_dir);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for second in 0u64.. {
        tick.tick().await;
        let mut arrived = Vec::new();
        while let Ok((_, ms)) = times.try_recv() {
            arrived.push(ms);
        }
        if second % 2 == 1 {
            in_service = refresh(&state_dir, &fleet).await;
        }
        let mut fleet = fleet.lock().expect("fleet lock");
        fleet.history.push(arrived, in_service);
    }
}
