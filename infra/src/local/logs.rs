//! `infra logs`: the end of each component's log, or of one, optionally
//! following it as it grows.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::log_tail;
use super::state::StateDir;
use super::LocalError;

pub struct LogsOptions {
    /// A component (haproxy, mariadb, ...) or an instance id (i-1); None for all.
    pub name: Option<String>,
    pub lines: usize,
    pub follow: bool,
}

pub async fn logs(
    state_dir: &Path,
    options: &LogsOptions,
    out: &mut impl Write,
) -> Result<(), LocalError> {
    let Some(dir) = StateDir::open(state_dir) else {
        return Err(LocalError::Missing(format!(
            "no stack has run from {}\n  fix: start one with `photoscale infra up --level N`, or pass --state-dir",
            state_dir.display()
        )));
    };
    let all = log_files(dir.root());
    let chosen: Vec<(String, PathBuf)> = match &options.name {
        None => all,
        Some(name) => {
            let found: Vec<_> = all.iter().filter(|(n, _)| n == name).cloned().collect();
            if found.is_empty() {
                let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                return Err(LocalError::Missing(format!(
                    "the stack has no component called {name:?}\n  fix: choose one of: {}",
                    names.join(", ")
                )));
            }
            found
        }
    };
    let io = LocalError::Output;
    for (name, log) in &chosen {
        if chosen.len() > 1 {
            writeln!(out, "==> {name} ({}) <==", log.display()).map_err(io)?;
        }
        writeln!(out, "{}", log_tail(log, options.lines)).map_err(io)?;
    }
    if options.follow {
        follow(&chosen, out).await.map_err(io)?;
    }
    Ok(())
}

/// Every log file under the state directory, running or not (a stopped or
/// crashed component's log is what one wants to read).
fn log_files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let named = |dir: &Path, name: &str| dir.join(name).join(format!("{name}.log"));
    for name in ["haproxy", "mariadb", "memcached", "redis", "s3"] {
        let path = named(root, name);
        if path.exists() {
            found.push((name.to_owned(), path));
        }
    }
    let mut ids: Vec<String> = std::fs::read_dir(root.join("instances"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // i-2 before i-10.
    ids.sort_by_key(|id| (id.len(), id.clone()));
    for id in ids {
        let path = named(&root.join("instances"), &id);
        if path.exists() {
            found.push((id, path));
        }
    }
    found
}

/// Prints what is appended to the logs until interrupted.
async fn follow(logs: &[(String, PathBuf)], out: &mut impl Write) -> std::io::Result<()> {
    let mut offsets: Vec<u64> = logs
        .iter()
        .map(|(_, path)| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
        .collect();
    loop {
        for ((name, path), offset) in logs.iter().zip(offsets.iter_mut()) {
            let Ok(mut file) = std::fs::File::open(path) else {
                continue;
            };
            let len = file.metadata()?.len();
            if len < *offset {
                *offset = 0; // truncated
            }
            if len == *offset {
                continue;
            }
            file.seek(SeekFrom::Start(*offset))?;
            let mut added = String::new();
            file.read_to_string(&mut added)?;
            *offset = len;
            for line in added.lines() {
                if logs.len() > 1 {
                    writeln!(out, "{name}: {line}")?;
                } else {
                    writeln!(out, "{line}")?;
                }
            }
            out.flush()?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
