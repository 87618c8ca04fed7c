//! photoscale under test: a local stack at a level (`photoscale infra up`),
//! or a lone `photoscale serve` with a configuration the case needs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use tokio::process::Command;

use crate::process::{free_port, Running};

/// A local stack started from its own state directory.
pub struct Stack {
    pub program: PathBuf,
    pub state_dir: PathBuf,
    port: u16,
}

#[derive(Debug, Deserialize)]
pub struct Status {
    pub url: Option<String>,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Instance {
    pub address: String,
}

impl Stack {
    pub fn new(program: &Path, work: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            program: program.to_owned(),
            state_dir: work.join("stack"),
            port: free_stack_port()?,
        })
    }

    async fn infra(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new(&self.program)
            .arg("infra")
            .args(args)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env_remove("RUST_LOG")
            .output()
            .await
            .context("running photoscale infra")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "photoscale infra {} failed:\n{stdout}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(stdout)
    }

    /// Brings the stack to `level` (with `extra` flags such as `--cache redis`).
    pub async fn up(&self, level: u8, extra: &[&str]) -> anyhow::Result<Status> {
        let (level, port) = (level.to_string(), self.port.to_string());
        let mut args = vec!["up", "--level", &level, "--port", &port];
        args.extend_from_slice(extra);
        self.infra(&args).await?;
        self.status().await
    }

    pub async fn status(&self) -> anyhow::Result<Status> {
        let text = self.infra(&["status", "--json"]).await?;
        serde_json::from_str(&text).with_context(|| format!("reading infra status:\n{text}"))
    }

    pub async fn down(&self) {
        let _ = self.infra(&["down", "--purge"]).await;
    }

    /// The configuration file every instance reads.
    pub fn app_config(&self) -> PathBuf {
        self.state_dir.join("app").join("photoscale.toml")
    }

    /// Instance `id`'s data directory (its SQLite file and local photos at level 0).
    pub fn instance_data(&self, id: &str) -> PathBuf {
        self.state_dir.join("instances").join(id).join("data")
    }

    /// The secret the instances use for the stack's S3 server.
    pub fn s3_secret(&self) -> anyhow::Result<String> {
        let file = self.state_dir.join("secrets.json");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let secrets: serde_json::Value = serde_json::from_str(&text)?;
        secrets["s3_secret_key"]
            .as_str()
            .map(str::to_owned)
            .context("no s3_secret_key in the stack's secrets")
    }
}

/// An entry port P such that every port a stack uses (P, P+1 on the
/// instance addresses, P+10..P+15) is free now. Below Linux's ephemeral
/// range (32768 and up), so that no client connection of the load tools
/// takes one of them while the stack moves between levels.
fn free_stack_port() -> anyhow::Result<u16> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..200 {
        let base: u16 = 10_000 + rng.gen_range(0..1_100u16) * 20;
        let mut addresses = vec![format!("127.0.0.1:{base}")];
        addresses.extend((11..=16).map(|i| format!("127.0.0.{i}:{}", base + 1)));
        addresses.extend((10..=15).map(|o| format!("127.0.0.1:{}", base + o)));
        if addresses
            .iter()
            .all(|a| std::net::TcpListener::bind(a.as_str()).is_ok())
        {
            return Ok(base);
        }
    }
    bail!("no free block of ports for the stack between 10000 and 32000")
}

/// A lone `photoscale serve` with a configuration of the bench's making.
pub struct Server {
    pub process: Running,
    pub base: String,
}

/// Starts `photoscale serve` named `name` with `config` (TOML text, without
/// `bind`) on a free port, on `data_dir`.
pub async fn serve(
    program: &Path,
    work: &Path,
    name: &str,
    config: &str,
    data_dir: &Path,
    env: &[(&str, String)],
) -> anyhow::Result<Server> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let file = dir.join("photoscale.toml");
    std::fs::write(&file, format!("bind = \"127.0.0.1:{port}\"\n{config}"))?;
    let mut command = Command::new(program);
    command
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .arg(format!("--instance-id={name}"))
        .arg(format!("--data-dir={}", data_dir.display()))
        .env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    let mut process = Running::start(name, command, work)?;
    let base = format!("http://127.0.0.1:{port}");
    process
        .wait_ready(&format!("{base}/healthz"), Duration::from_secs(30))
        .await?;
    Ok(Server { process, base })
}
