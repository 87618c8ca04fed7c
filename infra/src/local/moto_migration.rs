//! Stacks made before photoscale had its own S3 server kept their photos in
//! moto: in its memory, and in a recording of every request (`s3/
//! recording.jsonl`) replayed at each start. The first `up` after the
//! change moves them, once: moto is started on a spare port with the
//! recording replayed, `photoscale s3-server --import-from` copies every
//! object (bytes, content type) into the new server's directory, moto is
//! stopped, and the recording is kept as `recording.jsonl.migrated`.

use std::net::SocketAddrV4;
use std::path::Path;
use std::time::Duration;

use super::health::{client, port_open};
use super::services::{find, s3_objects_dir, BUCKET};
use super::state::StateDir;
use super::LocalError;

const RECORDING: &str = "recording.jsonl";
const MIGRATED: &str = "recording.jsonl.migrated";

/// Moves a moto recording's objects into the S3 server's directory, when
/// there is a recording not moved yet.
pub async fn migrate(state_dir: &StateDir, app: &Path) -> Result<(), LocalError> {
    let dir = state_dir.dir("s3");
    let recording = dir.join(RECORDING);
    if !std::fs::metadata(&recording).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let moto = find("moto_server").map_err(|_| {
        LocalError::Missing(format!(
            "this stack's photos are still in moto's recording ({}), and moto is needed once to move them\n  \
             fix: python3 -m pip install 'moto[server]', then run `infra up` again",
            recording.display()
        ))
    })?;
    let address = spare_address()?;
    let mut server = tokio::process::Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &address.port().to_string()])
        .env("MOTO_RECORDER_FILEPATH", &recording)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| LocalError::Spawn {
            component: "s3 (moving moto's objects)".into(),
            program: "moto_server".into(),
            source,
        })?;
    let moved = copy_objects(&address, state_dir, app).await;
    let _ = server.kill().await;
    moved?;
    std::fs::rename(&recording, dir.join(MIGRATED)).map_err(|source| LocalError::StateDir {
        path: recording,
        source,
    })
}

async fn copy_objects(
    moto: &SocketAddrV4,
    state_dir: &StateDir,
    app: &Path,
) -> Result<(), LocalError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !port_open(*moto).await {
        if tokio::time::Instant::now() > deadline {
            return Err(failed("moto did not start to replay the recording".into()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let replay = client()
        .post(format!("http://{moto}/moto-api/recorder/replay-recording"))
        .timeout(Duration::from_secs(600))
        .send()
        .await;
    match replay {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => {
            return Err(failed(format!(
                "moto's replay answered HTTP {}",
                r.status()
            )))
        }
        Err(e) => return Err(failed(format!("moto's replay failed: {e}"))),
    }
    let output = tokio::process::Command::new(app)
        .arg("s3-server")
        .arg(format!("--root={}", s3_objects_dir(state_dir).display()))
        .arg(format!("--bucket={BUCKET}"))
        .arg(format!("--import-from=http://{moto}"))
        .output()
        .await
        .map_err(|source| LocalError::Spawn {
            component: "s3 (moving moto's objects)".into(),
            program: app.display().to_string(),
            source,
        })?;
    if !output.status.success() {
        return Err(failed(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(())
}

fn failed(output: String) -> LocalError {
    LocalError::Command {
        what: "moving the photos from moto's recording into the S3 server".into(),
        output,
    }
}

/// A free loopback port for the one-off moto.
fn spare_address() -> Result<SocketAddrV4, LocalError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| LocalError::Spawn {
            component: "s3 (moving moto's objects)".into(),
            program: "a spare port".into(),
            source,
        })?;
    match listener.local_addr() {
        Ok(std::net::SocketAddr::V4(address)) => Ok(address),
        _ => Err(failed("no IPv4 loopback port".into())),
    }
}
