//! Photos in an S3 bucket (or an S3-compatible server) through aws-sdk-s3.
//! Credentials come from the standard AWS chain (environment, profile,
//! instance role); nothing secret is in photoscale's own configuration.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;

use crate::domain::photo_image::PhotoFormat;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use super::{validate_key, Listed, ObjectBody, StorageError};
use crate::configuration::{S3Serve, S3Settings};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
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

/// The HTTPS client every S3 client of photoscale's uses: rustls with ring,
/// the TLS stack the rest of the program already has. The SDK's default
/// (rustls on aws-lc) is not built: see the aws-sdk-s3 line in Cargo.toml.
pub fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

impl S3Storage {
    /// Builds the client and checks that the bucket answers, so a wrong name
    /// or missing credentials stop start-up instead of the first upload.
    pub async fn connect(settings: &S3Settings) -> anyhow::Result<Self> {
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client());
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            use secrecy::ExposeSecret;
            config = config.credentials_provider(aws_sdk_s3::config::Credentials::new(
                id,
                secret.expose_secret(),
                None,
                None,
                "storage.s3 in photoscale.toml",
            ));
        }
        let path_style = settings.path_style.unwrap_or(settings.endpoint.is_some());
        config = config.force_path_style(path_style);
        let storage = Self {
            client: Client::from_conf(config.build()),
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
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => anyhow::bail!(
                "S3 bucket {:?} is not usable: {}\n  fix: check storage.s3.bucket, storage.s3.region and storage.s3.endpoint, \
                 and that AWS credentials are available (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role)",
                self.bucket,
                DisplayErrorContext(&e)
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
        let body = ByteStream::from_path(source)
            .await
            .map_err(|e| remote("PutObject", key, e))?;
        self.put(key, body, content_type).await?;
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
        self.put(key, ByteStream::from(bytes), content_type).await
    }

    async fn put(
        &self,
        key: &str,
        body: ByteStream,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .content_type(content_type)
            .cache_control("public, max-age=31536000, immutable")
            .body(body)
            .send()
            .await
            .map_err(|e| remote("PutObject", key, DisplayErrorContext(e)))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<ObjectBody, StorageError> {
        validate_key(key)?;
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => {
                return Err(StorageError::NotFound(key.to_owned()))
            }
            Err(e) => return Err(remote("GetObject", key, DisplayErrorContext(e))),
        };
        let length = output.content_length().unwrap_or(0).max(0) as u64;
        let reader = output.body.into_async_read();
        Ok(ObjectBody {
            length,
            stream: ReaderStream::new(reader).boxed(),
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
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.full_key(prefix))
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| remote("ListObjectsV2", prefix, DisplayErrorContext(e)))?;
        let listed = output
            .contents()
            .iter()
            .filter_map(|object| {
                let key = object.key()?.strip_prefix(&self.prefix)?.to_owned();
                let modified = std::time::SystemTime::try_from(*object.last_modified()?).ok()?;
                Some(Listed { key, modified })
            })
            .collect();
        let next = match output.is_truncated() {
            Some(true) => output.next_continuation_token().map(str::to_owned),
            _ => None,
        };
        Ok((listed, next))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        // S3 answers success for a missing key, as our contract asks.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| remote("DeleteObject", key, DisplayErrorContext(e)))?;
        Ok(())
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
        let config = PresigningConfig::expires_in(self.presign_ttl).ok()?;
        // The link pins what the bucket answers with: the type the server
        // decided (not whatever the object's metadata says) and inline display
        // under the server-made name. S3 cannot add `nosniff`; a CDN's
        // response-headers policy or `serve = "proxy"` does (see README).
        let content_type = PhotoFormat::of_key(key).map(PhotoFormat::content_type);
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .set_response_content_type(content_type.map(str::to_owned))
            .response_content_disposition(super::inline_disposition(key))
            .presigned(config)
            .await;
        match request {
            Ok(request) => {
                let until = now + (self.presign_ttl.as_millis() / 2) as i64;
                let url = request.uri().to_owned();
                self.links.insert(key.to_owned(), (url.clone(), until));
                Some((url, until))
            }
            Err(e) => {
                tracing::warn!(key, error = %DisplayErrorContext(e), "cannot presign a photo URL; serving it through the app");
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

fn remote(operation: &'static str, key: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::Remote {
        operation,
        key: key.to_owned(),
        detail: detail.to_string(),
    }
}
