//! Photos in an S3 bucket (or an S3-compatible server), through the small
//! client in `s3_client.rs`. Credentials come from the configuration, the
//! environment, the shared credentials file or the instance role (see
//! `s3_credentials.rs`); nothing secret is in photoscale's own configuration
//! on AWS.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio_util::io::ReaderStream;

use super::s3_client::{S3Client, S3Error};
use super::{validate_key, Listed, ObjectBody, StorageError};
use crate::configuration::{S3Serve, S3Settings};
use crate::domain::photo_image::PhotoFormat;

#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Arc<S3Client>,
    bucket: String,
    prefix: String,
    serve: S3Serve,
    presign_ttl: Duration,
    endpoint: Option<String>,
    /// Presigned links by key, with the time until which each may be
    /// handed out (see `presigned_link`).
    links: Arc<quick_cache::sync::Cache<String, (String, i64)>>,
}

/// How many presigned links are remembered (a few hundred bytes each).
const REMEMBERED_LINKS: usize = 4096;

impl S3Storage {
    /// Builds the client and checks that the bucket answers, so a wrong name
    /// or missing credentials stop start-up instead of the first upload.
    pub async fn connect(settings: &S3Settings) -> anyhow::Result<Self> {
        let storage = Self {
            client: Arc::new(S3Client::connect(settings).await?),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            serve: settings.serve,
            presign_ttl: settings.presign_ttl,
            endpoint: settings.endpoint.clone(),
            links: Arc::new(quick_cache::sync::Cache::new(REMEMBERED_LINKS)),
        };
        storage.check_bucket().await?;
        Ok(storage)
    }

    async fn check_bucket(&self) -> anyhow::Result<()> {
        match self.client.head_bucket().await {
            Ok(()) => Ok(()),
            Err(e) => anyhow::bail!(
                "S3 bucket {:?} is not usable: {e}\n  fix: check storage.s3.bucket, storage.s3.region and storage.s3.endpoint, \
                 and that credentials are available (storage.s3 keys, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or an instance role)",
                self.bucket
            ),
        }
    }

    /// The key as stored in the bucket: the configured prefix plus ours.
    pub fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub async fn put_file(
        &self,
        key: &str,
        source: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        // Streams from the file: the photo is never held in memory whole.
        let io = |source| StorageError::Io {
            key: key.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(source).await.map_err(io)?;
        let length = file.metadata().await.map_err(io)?.len();
        let body = reqwest::Body::wrap_stream(ReaderStream::new(file));
        self.put(key, body, length, content_type).await?;
        let _ = tokio::fs::remove_file(source).await;
        Ok(())
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        let length = bytes.len() as u64;
        self.put(key, reqwest::Body::from(bytes), length, content_type)
            .await
    }

    async fn put(
        &self,
        key: &str,
        body: reqwest::Body,
        length: u64,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object(
                &self.full_key(key),
                body,
                length,
                content_type,
                Some("public, max-age=31536000, immutable"),
            )
            .await
            .map_err(|e| remote("PutObject", key, e))
    }

    pub async fn get(&self, key: &str) -> Result<ObjectBody, StorageError> {
        validate_key(key)?;
        let response = match self.client.get_object(&self.full_key(key)).await {
            Ok(response) => response,
            Err(e) if e.is_not_found() => return Err(StorageError::NotFound(key.to_owned())),
            Err(e) => return Err(remote("GetObject", key, e)),
        };
        let length = response.content_length().unwrap_or(0);
        Ok(ObjectBody {
            length,
            stream: response
                .bytes_stream()
                .map_err(std::io::Error::other)
                .boxed(),
        })
    }

    /// Every object under `prefix`, a page (up to 1,000 keys) at a time.
    pub fn list(&self, prefix: &'static str) -> mpsc::Receiver<Result<Vec<Listed>, StorageError>> {
        let (pages, receiver) = mpsc::channel(2);
        let storage = self.clone();
        tokio::spawn(async move {
            let mut token: Option<String> = None;
            loop {
                let page = storage.list_page(prefix, token.take()).await;
                let (listed, next) = match page {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = pages.send(Err(e)).await;
                        return;
                    }
                };
                if pages.send(Ok(listed)).await.is_err() {
                    return;
                }
                match next {
                    Some(next) => token = Some(next),
                    None => return,
                }
            }
        });
        receiver
    }

    async fn list_page(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<(Vec<Listed>, Option<String>), StorageError> {
        let page = self
            .client
            .list_objects_v2(&self.full_key(prefix), token.as_deref())
            .await
            .map_err(|e| remote("ListObjectsV2", prefix, e))?;
        let listed = page
            .contents
            .into_iter()
            .filter_map(|object| {
                let key = object.key.strip_prefix(&self.prefix)?.to_owned();
                let modified = humantime::parse_rfc3339_weak(&object.last_modified).ok()?;
                Some(Listed { key, modified })
            })
            .collect();
        Ok((listed, page.next_continuation_token))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        // S3 answers success for a missing key, as our contract asks.
        self.client
            .delete_object(&self.full_key(key))
            .await
            .map_err(|e| remote("DeleteObject", key, e))
    }

    /// A signed GET URL, in `presigned` mode, and until when (ms since the
    /// epoch) it may be handed out. Signing is local, but it is still work
    /// for every photo of every page: a link is reused for the first half of
    /// its lifetime, so any link handed out stays valid for at least half
    /// the TTL more (time enough for a browser to load it, lazily too).
    pub async fn presigned_link(&self, key: &str) -> Option<(String, i64)> {
        if self.serve != S3Serve::Presigned || validate_key(key).is_err() {
            return None;
        }
        let now = crate::db::now_millis();
        if let Some((url, until)) = self.links.get(key) {
            if now < until {
                return Some((url, until));
            }
        }
        // The link pins what the bucket answers with: the type the server
        // decided (not whatever the object's metadata says) and inline display
        // under the server-made name. S3 cannot add `nosniff`; a CDN's
        // response-headers policy or `serve = "proxy"` does (see README).
        let content_type = PhotoFormat::of_key(key).map(PhotoFormat::content_type);
        // Without the space after `;` (the same header to a browser): a
        // signed query value with a space is where S3-compatible servers
        // disagree (`+` or `%20`), and a link must work on every one.
        let disposition = super::inline_disposition(key).replace("; ", ";");
        let signed = self
            .client
            .presigned_get(
                &self.full_key(key),
                self.presign_ttl,
                content_type,
                &disposition,
            )
            .await;
        match signed {
            Ok(url) => {
                let until = now + (self.presign_ttl.as_millis() / 2) as i64;
                let url = String::from(url);
                self.links.insert(key.to_owned(), (url.clone(), until));
                Some((url, until))
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "cannot presign a photo URL; serving it through the app");
                None
            }
        }
    }

    pub fn describe(&self) -> String {
        let place = match &self.endpoint {
            Some(endpoint) => format!(" at {endpoint}"),
            None => String::new(),
        };
        let serve = match self.serve {
            S3Serve::Presigned => "presigned URLs",
            S3Serve::Proxy => "proxied by the app",
        };
        format!(
            "S3 bucket {}{place} (prefix {:?}, {serve})",
            self.bucket, self.prefix
        )
    }
}

fn remote(operation: &'static str, key: &str, detail: S3Error) -> StorageError {
    StorageError::Remote {
        operation,
        key: key.to_owned(),
        detail: detail.to_string(),
    }
}
