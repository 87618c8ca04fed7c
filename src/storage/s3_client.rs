//! The few S3 requests photoscale makes (HeadBucket, PutObject, GetObject,
//! ListObjectsV2, DeleteObject, and presigned GETs), signed by rusty-s3
//! (SigV4 in query strings, no I/O of its own) and sent with reqwest, the
//! HTTP client the program already has. In place of the AWS SDK, whose S3
//! client alone added a minute and a half to a cold release build.

use std::time::Duration;

use rusty_s3::{Bucket, S3Action, UrlStyle};
use url::Url;

use super::s3_credentials::CredentialSource;
use crate::configuration::S3Settings;

/// How long a signature made for one request stays valid.
const REQUEST_SIGNATURE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// S3 answered with an error status: its code (e.g. NoSuchKey).
    #[error("{status}: {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    #[error("{0}")]
    Transport(String),
}

impl S3Error {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status: 404, .. })
    }
}

/// One page of ListObjectsV2, with what photoscale reads of it (S3's
/// answer has more; the local S3 server's has no ETag, which S3 always
/// sends, so rusty-s3's own parser refuses it).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPage {
    #[serde(default)]
    pub contents: Vec<ListedObject>,
    pub next_continuation_token: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedObject {
    pub key: String,
    /// RFC 3339, e.g. 2026-11-26T15:26:07.000Z.
    pub last_modified: String,
}

#[derive(Debug, Clone)]
pub struct S3Client {
    http: reqwest::Client,
    bucket: Bucket,
    credentials: CredentialSource,
}

impl S3Client {
    /// A client for `settings.bucket`: at `endpoint` (path-style by
    /// default) or at AWS's regional endpoint (virtual-hosted).
    pub async fn connect(settings: &S3Settings) -> anyhow::Result<Self> {
        let region = match (&settings.region, &settings.endpoint) {
            (Some(region), _) => region.clone(),
            (None, endpoint) => match std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            {
                Ok(region) => region,
                // S3-compatible servers sign with any region.
                Err(_) if endpoint.is_some() => "us-east-1".to_owned(),
                Err(_) => anyhow::bail!(
                    "storage.s3.region is not set\n  fix: set it (e.g. region = \"eu-west-1\") or AWS_REGION"
                ),
            },
        };
        let endpoint = match &settings.endpoint {
            Some(endpoint) => endpoint.clone(),
            None if region.starts_with("cn-") => format!("https://s3.{region}.amazonaws.com.cn"),
            None => format!("https://s3.{region}.amazonaws.com"),
        };
        let style = match settings.path_style.unwrap_or(settings.endpoint.is_some()) {
            true => UrlStyle::Path,
            false => UrlStyle::VirtualHost,
        };
        let endpoint: Url = endpoint
            .parse()
            .map_err(|e| anyhow::anyhow!("storage.s3.endpoint {endpoint:?}: {e}"))?;
        let bucket = Bucket::new(endpoint, style, settings.bucket.clone(), region)
            .map_err(|e| anyhow::anyhow!("storage.s3: {e}"))?;
        Ok(Self {
            http: reqwest::Client::new(),
            bucket,
            credentials: CredentialSource::find(settings).await?,
        })
    }

    /// A client with fixed keys, path-style (an S3-compatible server).
    pub fn fixed(endpoint: &str, bucket: &str, key: &str, secret: &str) -> anyhow::Result<Self> {
        let credentials = rusty_s3::Credentials::new(key, secret);
        let bucket = Bucket::new(
            endpoint.parse()?,
            UrlStyle::Path,
            bucket.to_owned(),
            "us-east-1",
        )
        .map_err(|e| anyhow::anyhow!("{endpoint}: {e}"))?;
        Ok(Self {
            http: reqwest::Client::new(),
            bucket,
            credentials: CredentialSource::Fixed(std::sync::Arc::new(credentials)),
        })
    }

    async fn signed(
        &self,
        sign: impl FnOnce(&rusty_s3::Credentials) -> Url,
    ) -> Result<Url, S3Error> {
        let credentials = self
            .credentials
            .current()
            .await
            .map_err(|e| S3Error::Transport(e.to_string()))?;
        Ok(sign(&credentials))
    }

    pub async fn head_bucket(&self) -> Result<(), S3Error> {
        let url = self
            .signed(|c| self.bucket.head_bucket(Some(c)).sign(REQUEST_SIGNATURE))
            .await?;
        checked(self.http.head(url).send().await).await.map(drop)
    }

    pub async fn put_object(
        &self,
        key: &str,
        body: reqwest::Body,
        length: u64,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), S3Error> {
        let url = self
            .signed(|c| self.bucket.put_object(Some(c), key).sign(REQUEST_SIGNATURE))
            .await?;
        let mut request = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .header(reqwest::header::CONTENT_TYPE, content_type);
        if let Some(cache_control) = cache_control {
            request = request.header(reqwest::header::CACHE_CONTROL, cache_control);
        }
        checked(request.body(body).send().await).await.map(drop)
    }

    /// The object's response, its body not yet read.
    pub async fn get_object(&self, key: &str) -> Result<reqwest::Response, S3Error> {
        let url = self
            .signed(|c| self.bucket.get_object(Some(c), key).sign(REQUEST_SIGNATURE))
            .await?;
        checked(self.http.get(url).send().await).await
    }

    pub async fn list_objects_v2(
        &self,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<ListPage, S3Error> {
        let url = self
            .signed(|c| {
                let mut list = self.bucket.list_objects_v2(Some(c));
                list.with_prefix(prefix);
                if let Some(token) = token {
                    list.with_continuation_token(token);
                }
                list.sign(REQUEST_SIGNATURE)
            })
            .await?;
        let response = checked(self.http.get(url).send().await).await?;
        let text = response.text().await.map_err(transport)?;
        quick_xml::de::from_str(&text)
            .map_err(|e| S3Error::Transport(format!("an unreadable listing: {e}")))
    }

    pub async fn delete_object(&self, key: &str) -> Result<(), S3Error> {
        let url = self
            .signed(|c| {
                self.bucket
                    .delete_object(Some(c), key)
                    .sign(REQUEST_SIGNATURE)
            })
            .await?;
        checked(self.http.delete(url).send().await).await.map(drop)
    }

    /// A GET link valid for `ttl`, with the response's Content-Type and
    /// Content-Disposition pinned by the signature.
    pub async fn presigned_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
        disposition: &str,
    ) -> Result<Url, S3Error> {
        self.signed(|c| {
            let mut get = self.bucket.get_object(Some(c), key);
            if let Some(content_type) = content_type {
                get.query_mut()
                    .insert("response-content-type", content_type.to_owned());
            }
            get.query_mut()
                .insert("response-content-disposition", disposition.to_owned());
            get.sign(ttl)
        })
        .await
    }
}

fn transport(e: reqwest::Error) -> S3Error {
    S3Error::Transport(e.to_string())
}

/// The response if its status is a success, else S3's error code.
async fn checked(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, S3Error> {
    let response = sent.map_err(transport)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let tag = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = body[start..].find(&format!("</{name}>"))?;
        Some(body[start..start + end].to_owned())
    };
    Err(S3Error::Status {
        status: status.as_u16(),
        code: tag("Code").unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned()),
        message: tag("Message").unwrap_or_default(),
    })
}
