//! Waiting for a started program to be ready: its port accepts connections,
//! or its `/healthz` answers 200. Every wait also watches the process, so a
//! program that dies on start is reported at once with its log, not after a
//! timeout.

use std::net::SocketAddrV4;
use std::path::Path;
use std::time::Duration;

use super::process::{is_alive, log_tail};
use super::LocalError;

/// What a wait is watching.
pub struct Watched<'a> {
    pub component: &'a str,
    pub pid: u32,
    pub log: &'a Path,
}

impl Watched<'_> {
    fn exited(&self) -> LocalError {
        LocalError::Exited {
            component: self.component.to_owned(),
            log: self.log.to_owned(),
            tail: log_tail(self.log, 15),
        }
    }

    fn timed_out(&self, waiting_for: String) -> LocalError {
        LocalError::NotReady {
            component: self.component.to_owned(),
            waiting_for,
            log: self.log.to_owned(),
            tail: log_tail(self.log, 15),
        }
    }
}

/// True when something accepts TCP connections on `address`.
pub async fn port_open(address: SocketAddrV4) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(address)
        )
        .await,
        Ok(Ok(_))
    )
}

/// Waits until `address` accepts connections.
pub async fn wait_for_port(
    watched: &Watched<'_>,
    address: SocketAddrV4,
    limit: Duration,
) -> Result<(), LocalError> {
    wait_until(watched, limit, format!("port {address}"), || {
        port_open(address)
    })
    .await
}

/// Waits until `GET http://address/healthz` answers 200.
pub async fn wait_for_healthz(
    watched: &Watched<'_>,
    address: SocketAddrV4,
    limit: Duration,
) -> Result<(), LocalError> {
    let client = client();
    let url = format!("http://{address}/healthz");
    wait_until(watched, limit, format!("GET {url} to answer 200"), || {
        healthz_ok(&client, &url)
    })
    .await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client builds")
}

pub async fn healthz_ok(client: &reqwest::Client, url: &str) -> bool {
    matches!(client.get(url).send().await, Ok(r) if r.status().is_success())
}

/// What an instance's `/healthz` says: whether it passes, and which build
/// it runs (None when it does not answer, or answers without a build id).
pub async fn healthz_build(client: &reqwest::Client, url: &str) -> (bool, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Body {
        build: Option<String>,
    }
    let Ok(response) = client.get(url).send().await else {
        return (false, None);
    };
    let ok = response.status().is_success();
    let build = response.json::<Body>().await.ok().and_then(|b| b.build);
    (ok, build)
}

async fn wait_until<F, Fut>(
    watched: &Watched<'_>,
    limit: Duration,
    waiting_for: String,
    mut ready: F,
) -> Result<(), LocalError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        // The watched process was just spawned by us: alive is enough (its
        // name may still be changing while a launcher execs it).
        if !is_alive(watched.pid) {
            return Err(watched.exited());
        }
        if ready().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(watched.timed_out(waiting_for));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
