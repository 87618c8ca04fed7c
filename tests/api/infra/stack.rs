//! A local stack brought up with the real command line (`photoscale infra
//! up`) on free ports and its own state directory, driven through its entry
//! point only, and always taken down again, also when a test fails.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::{browser, Site};

pub struct Stack {
    pub state_dir: TempDir,
    pub port: u16,
    pub url: String,
    client: reqwest::Client,
}

impl Site for Stack {
    fn base_url(&self) -> &str {
        &self.url
    }

    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Health checks fast enough for tests that wait on HAProxy's verdict.
pub const FAST_HEALTH_CHECKS: [&str; 6] = [
    "--health-interval",
    "500ms",
    "--health-rise",
    "1",
    "--health-fall",
    "2",
];

/// Runs `photoscale` with `args` and the given extra environment.
pub async fn photoscale(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_photoscale"));
    command.args(args).env_remove("PHOTOSCALE_STATE_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().await.expect("photoscale runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Stack {
    /// `infra up --level N` plus `extra` flags; panics with the output on failure.
    pub async fn up(level: u8, extra: &[&str]) -> Stack {
        let stack = Self::unstarted();
        stack.change_to(level, extra).await;
        stack
    }

    /// `infra up` again on this stack (another level or other flags); panics
    /// with the output on failure; returns what it said on stderr.
    pub async fn change_to(&self, level: u8, extra: &[&str]) -> String {
        let output = self.up_again(level, extra).await;
        assert!(
            output.status.success(),
            "infra up --level {level} failed:\n{}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        assert_eq!(text(&output.stdout).trim(), self.url, "up prints the URL");
        text(&output.stderr)
    }

    /// A stack that has not been brought up yet (free ports, empty state).
    pub fn unstarted() -> Stack {
        let port = free_port_block();
        Stack {
            state_dir: tempfile::tempdir().unwrap(),
            port,
            url: format!("http://127.0.0.1:{port}"),
            client: browser(),
        }
    }

    /// Runs `infra up` on this stack's ports and state directory.
    pub async fn up_again(&self, level: u8, extra: &[&str]) -> Output {
        self.up_with_env(level, extra, &[]).await
    }

    pub async fn up_with_env(&self, level: u8, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let level = level.to_string();
        let port = self.port.to_string();
        let mut args = vec!["infra", "up", "--level", &level, "--port", &port];
        args.extend(extra);
        self.infra(&args, env).await
    }

    /// Runs an `infra` command with `--state-dir` set to this stack's.
    pub async fn infra(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let state_dir = self.state_dir.path().display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--state-dir", &state_dir]);
        photoscale(&all, env).await
    }

    /// `infra status --json`.
    pub async fn status(&self) -> Value {
        let output = self.infra(&["infra", "status", "--json"], &[]).await;
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("status --json: {e}: {}", text(&output.stdout)))
    }

    /// Pid of instance `id` (i-1, ...) or component (haproxy, mariadb, ...).
    pub async fn pid_of(&self, name: &str) -> u32 {
        let status = self.status().await;
        let pid = everything(&status)
            .find(|(n, _, _)| n == name)
            .map(|(_, pid, _)| pid);
        pid.unwrap_or_else(|| panic!("no {name} in {status:#}"))
    }

    /// `infra down`, then checks that no process or port of the stack is left.
    pub async fn down_and_check_nothing_is_left(&self) {
        let before = self.status().await;
        let output = self.infra(&["infra", "down"], &[]).await;
        assert!(output.status.success(), "down: {}", text(&output.stderr));
        assert_nothing_left(&before);
        assert_eq!(self.status().await["running"], false);
    }

    /// Another browser (no cookies yet) on the same stack.
    pub fn visitor(&self) -> Visitor {
        Visitor {
            url: self.url.clone(),
            client: browser(),
        }
    }

    /// The files under `relative` in the state directory.
    pub fn files_under(&self, relative: &str) -> Vec<String> {
        let mut files = Vec::new();
        collect(&self.state_dir.path().join(relative), &mut files);
        files
    }
}

pub struct Visitor {
    url: String,
    client: reqwest::Client,
}

impl Site for Visitor {
    fn base_url(&self) -> &str {
        &self.url
    }

    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Drop for Stack {
    /// A failed test must not leave servers running.
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_photoscale"))
            .args(["infra", "down", "--state-dir"])
            .arg(self.state_dir.path())
            .output();
    }
}

/// (name, pid, address) of every component and instance in a status report.
pub fn everything(status: &Value) -> impl Iterator<Item = (String, u32, String)> + '_ {
    let components = status["components"].as_array().into_iter().flatten();
    let instances = status["instances"].as_array().into_iter().flatten();
    components.chain(instances).map(|c| {
        let name = c.get("name").or_else(|| c.get("id")).unwrap();
        (
            name.as_str().unwrap().to_owned(),
            c["pid"].as_u64().unwrap() as u32,
            c["address"].as_str().unwrap().to_owned(),
        )
    })
}

/// No pid of `status` is alive and no address accepts connections.
pub fn assert_nothing_left(status: &Value) {
    let all: Vec<_> = everything(status).collect();
    assert!(
        !all.is_empty(),
        "the stack had something running: {status:#}"
    );
    for (name, pid, address) in all {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid),
            "{name} (pid {pid}) still runs"
        );
        let address: SocketAddr = address.parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_err(),
            "{name} still listens on {address}"
        );
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().unwrap_or("").trim().starts_with('Z'))
        .unwrap_or(true)
}

fn collect(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path.display().to_string());
        }
    }
}

/// An entry port P such that every port a stack uses (P, P+1 on the instance
/// addresses, P+10..P+15 (the fleet view)) is free now. Blocks of 20 are handed out once per
/// test binary, so parallel tests never pick the same one, and they lie below
/// Linux's ephemeral range (32768 and up), so a port the kernel hands to a
/// client or to a server bound to port 0 never lands in a stack later.
fn free_port_block() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    const LOW: u16 = 10_000;
    const SPAN: u16 = 22_000;
    let start = (std::process::id() % 1_000) as u16 * 20;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = LOW + (start + n.wrapping_mul(20)) % SPAN;
        let mut addresses = vec![format!("127.0.0.1:{base}")];
        addresses.extend((11..=16).map(|i| format!("127.0.0.{i}:{}", base + 1)));
        addresses.extend((10..=15).map(|o| format!("127.0.0.1:{}", base + o)));
        if addresses
            .iter()
            .all(|a| TcpListener::bind(a.as_str()).is_ok())
        {
            return base;
        }
    }
}

/// The stack's S3 server, reached as its instances reach it: the endpoint
/// and key pair of the app's configuration file.
pub struct StackBucket {
    client: aws_sdk_s3::Client,
}

impl Stack {
    pub fn bucket(&self) -> StackBucket {
        let config =
            std::fs::read_to_string(self.state_dir.path().join("app/photoscale.toml")).unwrap();
        let config: toml::Table = config.parse().unwrap();
        let s3 = &config["storage"]["s3"];
        let config = aws_sdk_s3::Config::builder()
            .http_client(crate::helpers::s3_http_client())
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(s3["endpoint"].as_str().unwrap())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                s3["access_key_id"].as_str().unwrap(),
                s3["secret_access_key"].as_str().unwrap(),
                None,
                None,
                "the stack's app configuration",
            ))
            .force_path_style(true)
            .build();
        StackBucket {
            client: aws_sdk_s3::Client::from_conf(config),
        }
    }
}

impl StackBucket {
    /// Every key in the photos bucket.
    pub async fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket("photos")
                .set_continuation_token(token.take())
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!("listing: {}", aws_sdk_s3::error::DisplayErrorContext(e))
                });
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        keys
    }

    /// An object's bytes and content type.
    pub async fn get(&self, key: &str) -> (Vec<u8>, Option<String>) {
        let object = self
            .client
            .get_object()
            .bucket("photos")
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
        let content_type = object.content_type().map(str::to_owned);
        (
            object.body.collect().await.unwrap().into_bytes().to_vec(),
            content_type,
        )
    }

    pub async fn put(&self, key: &str, body: &'static [u8]) {
        self.client
            .put_object()
            .bucket("photos")
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(body))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
    }
}

/// Polls `status --json` until `done` holds, for at most `limit`.
pub async fn wait_for(
    stack: &Stack,
    limit: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let status = stack.status().await;
        if done(&status) {
            return status;
        }
        if tokio::time::Instant::now() >= deadline {
            let events = stack.infra(&["infra", "events"], &[]).await;
            panic!(
                "{what} did not happen within {limit:?}:\n{status:#}\nevents:\n{}",
                text(&events.stdout)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
