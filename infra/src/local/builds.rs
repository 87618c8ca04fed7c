//! The builds a local stack runs: each kept under `builds/<build id>/`, so
//! the instances (and the autoscaler's launches) run the deployed build and
//! never whatever binary a later `cargo build` leaves on disk. Which build
//! is deployed is recorded in `app/deployed.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::state::{write_private, StateDir};
use super::LocalError;

/// The build the stack's instances run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// As the program prints it: version, commit and build time.
    pub build: String,
    /// Its copy in the state directory.
    pub program: PathBuf,
}

fn deployed_path(dir: &StateDir) -> PathBuf {
    dir.dir("app").join("deployed.json")
}

pub fn deployed(dir: &StateDir) -> Option<Deployed> {
    let text = std::fs::read_to_string(deployed_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn record_deployed(dir: &StateDir, deployed: &Deployed) -> Result<(), LocalError> {
    let text = serde_json::to_string_pretty(deployed).expect("serialises");
    write_private(&deployed_path(dir), text.as_bytes())
}

/// The build id `program --version` prints (`photoscale 0.1.0+g1e0a923.…`).
pub async fn build_id_of(program: &Path) -> Result<String, LocalError> {
    let not_ours = |why: String| {
        LocalError::Missing(format!(
            "{} is not a photoscale build: {why}\n  fix: give the photoscale program, e.g. --binary target/release/photoscale",
            program.display()
        ))
    };
    let output = tokio::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| not_ours(format!("it cannot be run ({e})")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim().split_once(' ') {
        Some(("photoscale", id)) if output.status.success() && is_build_id(id) => Ok(id.to_owned()),
        _ => Err(not_ours(format!(
            "`--version` printed {:?}",
            text.trim().chars().take(80).collect::<String>()
        ))),
    }
}

fn is_build_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'))
}

/// Keeps `program` as build `build` in the state directory (a hard link
/// when it can, else a copy) and returns where.
pub fn install(dir: &StateDir, program: &Path, build: &str) -> Result<PathBuf, LocalError> {
    let build_dir = dir.dir(&format!("builds/{build}"));
    let kept = build_dir.join("photoscale");
    if kept.exists() {
        return Ok(kept);
    }
    let io = |source| LocalError::StateDir {
        path: kept.clone(),
        source,
    };
    let staging = build_dir.join(".photoscale.partial");
    let _ = std::fs::remove_file(&staging);
    if std::fs::hard_link(program, &staging).is_err() {
        std::fs::copy(program, &staging).map_err(io)?;
    }
    std::fs::rename(&staging, &kept).map_err(io)?;
    Ok(kept)
}

/// Installs `program` and returns it as the build to deploy.
pub async fn prepare(dir: &StateDir, program: &Path) -> Result<Deployed, LocalError> {
    let build = build_id_of(program).await?;
    let program = install(dir, program, &build)?;
    Ok(Deployed { build, program })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_ids_are_plain_words() {
        assert!(is_build_id("0.1.0+g1e0a923.20261126T171200Z"));
        assert!(!is_build_id("../../etc"));
        assert!(!is_build_id(""));
        assert!(!is_build_id(".."));
    }
}
