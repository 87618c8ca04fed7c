//! The photo storage port. Route code calls these methods and never learns
//! which backend it has; each backend lives in its own file.

mod local;

use std::path::Path;

use bytes::Bytes;
use futures_util::stream::BoxStream;

pub use local::LocalStorage;

use crate::configuration::{Settings, StorageBackend};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("storage I/O on {key}: {source}")]
    Io {
        key: String,
        #[source]
        source: std::io::Error,
    },
}

/// An object's bytes as a stream, so large photos are never held in memory whole.
pub struct ObjectBody {
    pub length: u64,
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalStorage),
}

impl Storage {
    pub async fn from_settings(settings: &Settings) -> std::io::Result<Self> {
        match settings.storage.backend {
            StorageBackend::Local => Ok(Self::Local(
                LocalStorage::open(settings.storage_path()).await?,
            )),
        }
    }

    /// Moves the finished temporary file at `source` into the store as `key`.
    pub async fn put_file(&self, key: &str, source: &Path) -> Result<(), StorageError> {
        match self {
            Self::Local(s) => s.put_file(key, source).await,
        }
    }

    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        match self {
            Self::Local(s) => s.put_bytes(key, bytes).await,
        }
    }

    pub async fn get(&self, key: &str) -> Result<ObjectBody, StorageError> {
        match self {
            Self::Local(s) => s.get(key).await,
        }
    }

    /// Removes `key`; removing a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self {
            Self::Local(s) => s.delete(key).await,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Local(s) => format!("local directory {}", s.root().display()),
        }
    }
}

/// Keys are made by the server (`originals/<hex>.jpg`); anything else is refused
/// so that no key can climb out of the store.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape() {
        assert!(validate_key("originals/0123abcd.jpg").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a b",
            "a\\b",
        ] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
