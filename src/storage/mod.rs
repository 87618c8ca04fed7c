//! The photo storage port. Route code calls these methods and never learns
//! which backend it has; each backend lives in its own file.

mod hot_objects;
mod links;
mod local;
mod s3;
mod s3_client;
pub mod s3_credentials;

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;

pub use hot_objects::HotObjects;
pub use links::PhotoView;
pub use local::LocalStorage;
pub use s3::S3Storage;
pub use s3_client::{S3Client, S3Error};

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
    /// The object store (S3) answered with an error or did not answer.
    #[error("object store request {operation} on {key} failed: {detail}")]
    Remote {
        operation: &'static str,
        key: String,
        detail: String,
    },
}

/// One entry of a listing: an object, or the staging file of a write that
/// never finished (a hidden `.NAME.UUID.tmp` beside a directory store's
/// objects).
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub modified: std::time::SystemTime,
}

impl Listed {
    pub fn is_staging(&self) -> bool {
        local::is_staging_name(&self.key)
    }
}

/// An object's bytes as a stream, so large photos are never held in memory whole.
pub struct ObjectBody {
    pub length: u64,
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

#[derive(Debug, Clone)]
pub enum Storage {
    /// A directory only this instance uses.
    Local(LocalStorage),
    /// A directory several instances mount; the same code, which is safe for
    /// several writers (unique names, write beside, then rename).
    Shared(LocalStorage),
    S3(S3Storage),
}

impl Storage {
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let storage = match settings.storage.backend {
            StorageBackend::Local => {
                Self::Local(LocalStorage::open(settings.storage_path()).await?)
            }
            StorageBackend::Shared => {
                Self::Shared(LocalStorage::open(settings.storage_path()).await?)
            }
            StorageBackend::S3 => Self::S3(S3Storage::connect(&settings.storage.s3).await?),
        };
        Ok(storage)
    }

    /// A store in a directory of this machine (as `local` storage is), for
    /// files that are not photos, such as backups.
    pub async fn in_directory(root: PathBuf) -> std::io::Result<Self> {
        Ok(Self::Local(LocalStorage::open(root).await?))
    }

    /// A bucket other than the photos' (backups on AWS levels 0 and 1).
    pub async fn in_bucket(settings: &crate::configuration::S3Settings) -> anyhow::Result<Self> {
        Ok(Self::S3(S3Storage::connect(settings).await?))
    }

    /// Moves the finished temporary file at `source` into the store as `key`.
    pub async fn put_file(
        &self,
        key: &str,
        source: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.put_file(key, source).await,
            Self::S3(s) => s.put_file(key, source, content_type).await,
        }
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.put_bytes(key, bytes).await,
            Self::S3(s) => s.put_bytes(key, bytes, content_type).await,
        }
    }

    pub async fn get(&self, key: &str) -> Result<ObjectBody, StorageError> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.get(key).await,
            Self::S3(s) => s.get(key).await,
        }
    }

    /// The whole object in memory, for objects small enough to keep.
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes, StorageError> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.get_bytes(key).await,
            Self::S3(s) => {
                let mut body = s.get(key).await?;
                let mut bytes = bytes::BytesMut::with_capacity(body.length as usize);
                while let Some(chunk) = futures_util::StreamExt::next(&mut body.stream).await {
                    let chunk = chunk.map_err(|source| StorageError::Io {
                        key: key.to_owned(),
                        source,
                    })?;
                    bytes.extend_from_slice(&chunk);
                }
                Ok(bytes.freeze())
            }
        }
    }

    /// Removes `key`; removing a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.delete(key).await,
            Self::S3(s) => s.delete(key).await,
        }
    }

    /// Every object under `prefix` (`originals/` or `thumbnails/`), in pages
    /// as the store gives them; an error ends the listing.
    pub fn list(&self, prefix: &'static str) -> mpsc::Receiver<Result<Vec<Listed>, StorageError>> {
        match self {
            Self::Local(s) | Self::Shared(s) => s.list(prefix),
            Self::S3(s) => s.list(prefix),
        }
    }

    /// A short-lived URL the browser can fetch `key` from directly, when this
    /// backend serves photos that way (S3 in `presigned` mode).
    pub async fn presigned_url(&self, key: &str) -> Option<String> {
        self.presigned_link(key).await.map(|(url, _)| url)
    }

    /// A presigned URL and until when it may be handed out (ms since the
    /// epoch): links are reused, but never close to their expiry.
    pub async fn presigned_link(&self, key: &str) -> Option<(String, i64)> {
        match self {
            Self::Local(_) | Self::Shared(_) => None,
            Self::S3(s) => s.presigned_link(key).await,
        }
    }

    /// The object's key as a CDN in front of this store sees it.
    pub fn cdn_path(&self, key: &str) -> String {
        match self {
            Self::Local(_) | Self::Shared(_) => key.to_owned(),
            Self::S3(s) => s.full_key(key),
        }
    }

    /// True for stores whose objects a CDN can fetch directly (S3); a CDN in
    /// front of a directory store fetches the app's own photo URLs instead.
    pub fn is_object_store(&self) -> bool {
        match self {
            Self::Local(_) | Self::Shared(_) => false,
            Self::S3(_) => true,
        }
    }

    /// The origin browsers load photos from besides our own, for the CSP.
    pub async fn foreign_origin(&self) -> Option<String> {
        let url = self.presigned_url("originals/csp-probe.jpg").await?;
        let url = url::Url::parse(&url).ok()?;
        Some(url.origin().ascii_serialization())
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Local(s) => format!("local directory {}", s.root().display()),
            Self::Shared(s) => format!("shared directory {}", s.root().display()),
            Self::S3(s) => s.describe(),
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

/// `Content-Disposition` for a stored object: shown in the page, under its
/// server-made name (`ID.jpg`), never a name the uploader chose.
pub fn inline_disposition(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    // Server-made names are [A-Za-z0-9_.-]; anything else is left out.
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    format!("inline; filename=\"{name}\"")
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
