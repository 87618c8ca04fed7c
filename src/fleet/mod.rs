//! `photoscale infra fleet`: a live view of a local stack for a browser, the
//! picture to watch while a load test runs. `GET /fleet` is the page,
//! `GET /fleet.json` what it polls: the instances (state, address, latency
//! setting, health), the alarms, the last scaling events, and a history of
//! the load balancer's average response time and the instances in service.

mod history;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use photoscale_infra::local;

use history::History;

/// How many recent scaling events the page shows.
const EVENTS: usize = 20;

struct Fleet {
    state_dir: PathBuf,
    history: Arc<Mutex<History>>,
}

/// Serves the view until interrupted.
pub async fn serve(state_dir: PathBuf, bind: SocketAddr) -> anyhow::Result<()> {
    let history = Arc::new(Mutex::new(History::default()));
    tokio::spawn(sample(state_dir.clone(), history.clone()));
    let fleet = web::Data::new(Fleet { state_dir, history });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(fleet.clone())
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
    server.run().await?;
    Ok(())
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
        .body(include_str!("../../templates/fleet.html"))
}

async fn snapshot(fleet: web::Data<Fleet>) -> HttpResponse {
    let status = local::status(&fleet.state_dir).await;
    let mut events = local::autoscaler::read_events(&fleet.state_dir);
    let events = events.split_off(events.len().saturating_sub(EVENTS));
    let history = fleet.history.lock().expect("history lock").samples();
    match status {
        Ok(status) => HttpResponse::Ok().json(serde_json::json!({
            "status": status,
            "events": events,
            "history": history,
        })),
        Err(e) => {
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "error": e.to_string() }))
        }
    }
}

/// Once a second: the average of the response times that arrived, and how
/// many instances the load balancer has in service.
async fn sample(state_dir: PathBuf, history: Arc<Mutex<History>>) {
    let mut times = local::response_times(&state_dir);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut in_service = 0;
    let mut seconds = 0u64;
    loop {
        tick.tick().await;
        let mut sum = 0.0;
        let mut count = 0u32;
        while let Ok((_, ms)) = times.try_recv() {
            sum += ms;
            count += 1;
        }
        // The instance count costs a status round, so every other second.
        if seconds % 2 == 0 {
            in_service = match local::status(&state_dir).await {
                Ok(status) => status
                    .instances
                    .iter()
                    .filter(|i| i.load_balancer.as_deref() == Some("UP"))
                    .count(),
                Err(_) => 0,
            };
        }
        seconds += 1;
        let average = (count > 0).then(|| sum / f64::from(count));
        history
            .lock()
            .expect("history lock")
            .push(average, count, in_service);
    }
}
