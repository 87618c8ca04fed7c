//! HAProxy: its configuration, and its runtime API (a Unix socket) through
//! which instances are added, drained and removed without a reload.

use std::fmt::Write;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::state::StateDir;
use crate::spec::LoadBalancer;

/// The backend every app instance is a server of.
pub const BACKEND: &str = "app";
/// The in-memory ring every request is logged to.
pub const RING: &str = "requests";

/// The configuration file's text. `servers` are the instances at the time of
/// writing, so a restart comes back with the same fleet; changes while it
/// runs go through the runtime API.
pub fn config(
    lb: &LoadBalancer,
    entry: SocketAddrV4,
    socket: &Path,
    servers: &[(String, SocketAddrV4)],
) -> String {
    let mut out = base_config(lb, entry, socket);
    for (name, address) in servers {
        let _ = writeln!(out, "    {}", server_line(name, *address, lb));
    }
    out
}

/// Everything but the server lines: when this changes, HAProxy restarts;
/// when only the servers change, the runtime API is enough.
pub fn base_config(lb: &LoadBalancer, entry: SocketAddrV4, socket: &Path) -> String {
    let hc = &lb.health_check;
    format!(
        r#"# Written by `photoscale infra up`; changes are overwritten.
global
    stats socket {socket} mode 600 level admin
    # The log file gets what went wrong (retries, redispatches, errors)...
    log stdout format raw local0 err

# ...and every request goes to this ring in HAProxy's memory, where the
# autoscaler reads response times (`show events {RING} -w` on the socket).
ring {RING}
    format raw
    maxlen 1024
    size 1048576

defaults
    mode http
    log global
    option httplog
    option log-separate-errors
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    # A dead instance costs no failed GET: retry the request elsewhere.
    # Not on a 5xx status: an instance that answers 503 because the shared
    # database hangs has already waited its query timeout, and every other
    # instance would wait as long again.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response junk-response response-timeout
    # The client's address, for the app's rate limits and audit log (it
    # believes the header only from this proxy: server.trusted_proxies).
    option forwardfor

frontend web
    bind {entry}
    log ring@{RING} local0 info
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    option httpchk GET {path}
    http-check expect status 200
    # Only safe requests are replayed; a POST is never sent twice.
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    # Instances added at run time are numbered after these.
"#,
        socket = socket.display(),
        path = hc.path,
    )
}

fn server_line(name: &str, address: SocketAddrV4, lb: &LoadBalancer) -> String {
    format!("server {name} {address} {}", check_options(lb))
}

fn check_options(lb: &LoadBalancer) -> String {
    let hc = &lb.health_check;
    format!(
        "check inter {} rise {} fall {}",
        hc.interval_ms, hc.rise, hc.fall
    )
}

/// One server as HAProxy sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerStatus {
    pub name: String,
    /// UP, DOWN, MAINT, DRAIN, "UP 1/2" (going up), "DOWN 1/3" (going down), ...
    pub status: String,
    /// Requests being served right now.
    pub current_sessions: u64,
    /// Average response time of the last 1024 requests, in ms.
    pub response_time_ms: u64,
    /// What the last health check said (HAProxy's free text, e.g. the
    /// reason phrase of a failing answer); empty before the first check.
    pub last_check: String,
}

impl ServerStatus {
    /// Taking traffic: UP (or DRAIN, which still finishes what it has).
    pub fn is_up(&self) -> bool {
        self.status == "UP"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    #[error("cannot reach HAProxy's runtime API at {socket}: {source}")]
    Unreachable {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("HAProxy refused `{command}`: {answer}")]
    Refused { command: String, answer: String },
    #[error("HAProxy's answer to `{command}` is not what photoscale reads: {problem}")]
    Unreadable { command: String, problem: String },
}

/// A client of HAProxy's runtime API.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    socket: PathBuf,
}

impl RuntimeApi {
    pub fn new(socket: PathBuf) -> Self {
        Self { socket }
    }

    /// Connects and sends `command`; the answer is what the stream gives.
    async fn send(&self, command: &str) -> Result<UnixStream, RuntimeApiError> {
        let unreachable = |source| RuntimeApiError::Unreachable {
            socket: self.socket.clone(),
            source,
        };
        let mut stream = UnixStream::connect(&self.socket)
            .await
            .map_err(unreachable)?;
        stream
            .write_all(format!("{command}\n").as_bytes())
            .await
            .map_err(unreachable)?;
        Ok(stream)
    }

    /// Sends one command and returns HAProxy's answer.
    pub async fn command(&self, command: &str) -> Result<String, RuntimeApiError> {
        let mut answer = String::new();
        self.send(command)
            .await?
            .read_to_string(&mut answer)
            .await
            .map_err(|source| RuntimeApiError::Unreachable {
                socket: self.socket.clone(),
                source,
            })?;
        Ok(answer)
    }

    /// Sends a command whose success is an empty answer or one of `ok`.
    async fn expect(&self, command: &str, ok: &[&str]) -> Result<(), RuntimeApiError> {
        let answer = self.command(command).await?;
        let trimmed = answer.trim();
        if trimmed.is_empty() || ok.iter().any(|o| trimmed.starts_with(o)) {
            Ok(())
        } else {
            Err(RuntimeApiError::Refused {
                command: command.to_owned(),
                answer: trimmed.to_owned(),
            })
        }
    }

    /// Adds an instance and lets health checks decide when it gets traffic.
    pub async fn add_server(
        &self,
        name: &str,
        address: SocketAddrV4,
        lb: &LoadBalancer,
    ) -> Result<(), RuntimeApiError> {
        let add = format!(
            "add server {} {address} {}",
            server_path(name),
            check_options(lb)
        );
        self.expect(&add, &["New server registered"]).await?;
        // Dynamic servers start in maintenance with checks off.
        self.expect(&format!("enable health {}", server_path(name)), &[])
            .await?;
        self.expect(&format!("enable server {}", server_path(name)), &[])
            .await
    }

    /// Stops sending new requests to `name`; what it is serving finishes.
    pub async fn drain(&self, name: &str) -> Result<(), RuntimeApiError> {
        self.set_state(name, "drain").await
    }

    /// Takes `name` out of rotation entirely (maintenance).
    pub async fn disable(&self, name: &str) -> Result<(), RuntimeApiError> {
        self.set_state(name, "maint").await
    }

    /// Puts `name` back into rotation; health checks still apply.
    pub async fn enable(&self, name: &str) -> Result<(), RuntimeApiError> {
        self.set_state(name, "ready").await
    }

    async fn set_state(&self, name: &str, state: &str) -> Result<(), RuntimeApiError> {
        let command = format!("set server {} state {state}", server_path(name));
        self.expect(&command, &[]).await
    }

    /// Removes `name`, which must be drained or in maintenance.
    pub async fn remove_server(&self, name: &str) -> Result<(), RuntimeApiError> {
        self.disable(name).await?;
        // Idle keep-alive connections would block the removal.
        let _ = self
            .command(&format!("shutdown sessions server {}", server_path(name)))
            .await;
        self.expect(
            &format!("del server {}", server_path(name)),
            &["Server deleted"],
        )
        .await
    }

    /// Puts a healthy instance into rotation: enabled if HAProxy knows it,
    /// added otherwise.
    pub async fn join(
        &self,
        name: &str,
        address: SocketAddrV4,
        lb: &LoadBalancer,
    ) -> Result<(), RuntimeApiError> {
        if self.servers().await?.iter().any(|s| s.name == name) {
            self.enable(name).await
        } else {
            self.add_server(name, address, lb).await
        }
    }

    /// Drains `name`, waits for what it serves to finish, and removes it.
    pub async fn retire(&self, name: &str) -> Result<(), RuntimeApiError> {
        if !self.servers().await?.iter().any(|s| s.name == name) {
            return Ok(());
        }
        self.drain(name).await?;
        self.wait_until_idle(name).await;
        self.remove_server(name).await
    }

    /// Waits (up to 30 s) until `name` serves no request.
    pub async fn wait_until_idle(&self, name: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline {
            let busy = match self.servers().await {
                Ok(servers) => servers
                    .iter()
                    .any(|s| s.name == name && s.current_sessions > 0),
                Err(_) => false,
            };
            if !busy {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The request log as it grows: one line per request, from now on.
    pub async fn follow_requests(
        &self,
    ) -> Result<tokio::io::Lines<tokio::io::BufReader<UnixStream>>, RuntimeApiError> {
        use tokio::io::AsyncBufReadExt;
        let stream = self.send(&format!("show events {RING} -w -n")).await?;
        Ok(tokio::io::BufReader::new(stream).lines())
    }

    /// Every server of the app backend, from `show stat json`: typed
    /// fields, where the CSV form has free text (health check messages)
    /// that may itself hold commas.
    pub async fn servers(&self) -> Result<Vec<ServerStatus>, RuntimeApiError> {
        const COMMAND: &str = "show stat json";
        let json = self.command(COMMAND).await?;
        parse_stat(&json).map_err(|problem| RuntimeApiError::Unreadable {
            command: COMMAND.to_owned(),
            problem,
        })
    }
}

/// The server and its response time (HAProxy's Tr: from sending the request
/// to the instance until its response headers, which is what ALB's
/// TargetResponseTime measures) from one `option httplog` line. None for a
/// request that got no response from an instance.
pub fn response_time(line: &str) -> Option<(String, f64)> {
    let mut fields = line.split_whitespace();
    let server = fields.find(|f| f.starts_with(&format!("{BACKEND}/")))?;
    let timers: Vec<&str> = fields.next()?.split('/').collect();
    let [_, _, _, tr, _] = timers.as_slice() else {
        return None;
    };
    let tr: f64 = tr.parse().ok()?;
    (tr >= 0.0).then(|| (server[BACKEND.len() + 1..].to_owned(), tr))
}

fn server_path(name: &str) -> String {
    format!("{BACKEND}/{name}")
}

/// Parses `show stat json`: one array of fields per proxy or server, each
/// field `{"field": {"name": ...}, "value": {"type": ..., "value": ...}}`.
fn parse_stat(json: &str) -> Result<Vec<ServerStatus>, String> {
    #[derive(serde::Deserialize)]
    struct Field {
        #[serde(rename = "objType")]
        object: String,
        field: Name,
        value: Value,
    }
    #[derive(serde::Deserialize)]
    struct Name {
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct Value {
        value: serde_json::Value,
    }
    let rows: Vec<Vec<Field>> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let servers = rows
        .into_iter()
        .filter(|row| row.first().is_some_and(|f| f.object == "Server"))
        .map(|row| {
            row.into_iter()
                .map(|f| (f.field.name, f.value.value))
                .collect::<std::collections::HashMap<_, _>>()
        })
        .filter(|fields| fields.get("pxname").and_then(|v| v.as_str()) == Some(BACKEND))
        .map(|fields| {
            let text = |name: &str| {
                fields
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let number = |name: &str| fields.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
            ServerStatus {
                name: text("svname"),
                status: text("status"),
                current_sessions: number("scur"),
                response_time_ms: number("rtime"),
                last_check: text("last_chk"),
            }
        })
        .collect();
    Ok(servers)
}

/// The socket of HAProxy's runtime API, in the stack's state directory.
pub fn admin_socket(state_dir: &StateDir) -> PathBuf {
    state_dir.dir("haproxy").join("admin.sock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::HealthCheck;

    fn lb() -> LoadBalancer {
        LoadBalancer {
            port: 8080,
            health_check: HealthCheck {
                path: "/healthz".into(),
                interval_ms: 500,
                rise: 2,
                fall: 2,
            },
        }
    }

    #[test]
    fn config_has_health_checks_retries_and_servers() {
        let text = config(
            &lb(),
            "127.0.0.1:8080".parse().unwrap(),
            Path::new("/s/admin.sock"),
            &[("i-1".into(), "127.0.0.11:8081".parse().unwrap())],
        );
        for needle in [
            "bind 127.0.0.1:8080",
            "balance roundrobin",
            "option httpchk GET /healthz",
            "retries 3",
            "option redispatch",
            "retry-on conn-failure empty-response junk-response response-timeout",
            "option forwardfor",
            "stats socket /s/admin.sock mode 600 level admin",
            "server i-1 127.0.0.11:8081 check inter 500 rise 2 fall 2",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }

    #[test]
    fn response_times_come_from_the_request_log() {
        let ok = r#"127.0.0.1:43186 [25/Nov/2026:07:07:23.459] web app/i-2 0/0/0/1503/1504 200 456 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1""#;
        assert_eq!(response_time(ok), Some(("i-2".to_owned(), 1503.0)));
        let no_response = r#"127.0.0.1:1 [25/Nov/2026:07:07:23.459] web app/i-1 0/0/-1/-1/3001 503 217 - - SC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1""#;
        assert_eq!(response_time(no_response), None);
        assert_eq!(response_time("[NOTICE] (31152) : Loading success."), None);
    }

    #[test]
    /// Recorded from HAProxy 2.6 (`show stat json`) with i-1 failing its
    /// check with the reason phrase "Down, for, maintenance" and i-2 up,
    /// after 20 requests of 12 ms: the CSV form quotes that phrase, and
    /// splitting on commas shifts every column after it.
    fn stat_json_is_read_for_the_app_backend_only() {
        let json = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/haproxy-show-stat.json"
        ))
        .unwrap();
        let servers = parse_stat(&json).unwrap();
        let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["i-1", "i-2"]);
        assert!(!servers[0].is_up());
        assert_eq!(servers[0].last_check, "Down, for, maintenance");
        assert!(servers[1].is_up());
        assert_eq!(servers[1].current_sessions, 0);
        assert_eq!(servers[1].response_time_ms, 13);
    }

    #[test]
    fn an_unreadable_answer_is_an_error_not_a_panic() {
        for answer in ["", "Unknown command.", "[[{\"objType\": 3}]]"] {
            assert!(parse_stat(answer).is_err(), "{answer:?}");
        }
    }
}
