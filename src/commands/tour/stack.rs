//! The tour's stack: `photoscale infra ...` run as the user would run it
//! (this same program, in its own state directory and block of ports), and
//! what the tour reads from it: status, the autoscaler's events, the
//! configuration the instances read.

use std::path::{Path, PathBuf};

use anyhow::Context;

pub struct TourStack {
    program: PathBuf,
    pub state_dir: PathBuf,
    pub port: u16,
    /// The link to the fleet view's controls is printed once, after the
    /// first `up` has made the state directory.
    link_printed: std::sync::atomic::AtomicBool,
}

impl TourStack {
    pub fn new(state_dir: PathBuf, port: u16) -> anyhow::Result<Self> {
        Ok(Self {
            program: std::env::current_exe().context("finding this program")?,
            state_dir,
            port,
            link_printed: Default::default(),
        })
    }

    /// The load balancer's (or the lone instance's) address.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `infra up --level N` with `extra` flags; its progress goes to the
    /// terminal, as when a person runs it.
    pub async fn up(&self, level: u8, extra: &[&str]) -> anyhow::Result<()> {
        let port = self.port.to_string();
        let level_text = level.to_string();
        let mut args = vec!["infra", "up", "--level", &level_text, "--port", &port];
        args.extend_from_slice(extra);
        let status = tokio::process::Command::new(&self.program)
            .args(&args)
            .arg("--state-dir")
            .arg(&self.state_dir)
            // One link to the controls for the whole tour, not one per level.
            .arg("--no-control-link")
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .context("running photoscale infra up")?;
        anyhow::ensure!(
            status.success(),
            "`infra up --level {level}` failed (see above)"
        );
        super::write_tour_step(&self.state_dir);
        if !self
            .link_printed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // The view's address was printed at the start; now its controls.
            let fleet = std::net::SocketAddr::from(([127, 0, 0, 1], self.port + 15));
            match crate::commands::fleet::control_link(&self.state_dir, fleet) {
                Ok(link) => println!(
                    "\nThe fleet view's controls (flip latency, kill an instance, start a load), once, for one browser:\n  {link}\n"
                ),
                Err(e) => println!("\n(no link to the fleet view's controls: {e})\n"),
            }
        }
        Ok(())
    }

    pub async fn down(&self, purge: bool) -> anyhow::Result<()> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(["infra", "down", "--state-dir"])
            .arg(&self.state_dir);
        if purge {
            command.arg("--purge");
        }
        let status = command.stdout(std::process::Stdio::null()).status().await?;
        anyhow::ensure!(status.success(), "`infra down` failed (see above)");
        Ok(())
    }

    /// The autoscaler's events since `since_ms` (Unix milliseconds).
    pub fn events_since(&self, since_ms: u64) -> Vec<String> {
        photoscale_infra::local::autoscaler::read_events(&self.state_dir)
            .into_iter()
            .filter(|e| e.at >= since_ms)
            .map(|e| e.text)
            .collect()
    }

    /// A value of the configuration every instance reads, e.g.
    /// ("database", "url").
    pub fn app_setting(&self, section: &str, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(app_config(&self.state_dir)).ok()?;
        let table: toml::Table = text.parse().ok()?;
        table.get(section)?.get(key)?.as_str().map(str::to_owned)
    }
}

fn app_config(state_dir: &Path) -> PathBuf {
    state_dir.join("app").join("photoscale.toml")
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
