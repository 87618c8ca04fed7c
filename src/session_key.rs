//! The key that signs and encrypts session cookies. From `sessions.key` when
//! set (instances that share it share sessions); otherwise generated once and
//! kept in `<data_dir>/session.key`, readable only by its owner, so sessions
//! survive a restart.

use std::path::Path;

use actix_web::cookie::Key;
use rand::RngCore;
use secrecy::ExposeSecret;
use tokio::io::AsyncWriteExt;

use crate::configuration::Settings;

pub async fn load_or_create(settings: &Settings) -> std::io::Result<Key> {
    if let Some(secret) = &settings.sessions.key {
        return Ok(Key::derive_from(secret.expose_secret().as_bytes()));
    }
    let path = settings.data_dir.join("session.key");
    match create_new(&path).await {
        Ok(bytes) => {
            tracing::info!(path = %path.display(), "generated a new session key");
            Ok(Key::derive_from(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_existing(&path).await,
        Err(e) => Err(e),
    }
}

async fn create_new(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await?;
    file.write_all(hex::encode(&bytes).as_bytes()).await?;
    file.sync_all().await?;
    Ok(bytes)
}

async fn read_existing(path: &Path) -> std::io::Result<Key> {
    let text = tokio::fs::read_to_string(path).await?;
    let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() >= 32).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is not a valid session key; delete it to generate a new one (everyone will be logged out)",
                path.display()
            ),
        )
    })?;
    Ok(Key::derive_from(&bytes))
}
