//! `photoscale s3-server --import-from URL`: copies every object of an
//! S3-compatible server (moto, for stacks made when moto was the local S3
//! server) into this server's directory, then exits. The objects are
//! written through the same S3 implementation that serves them, so they
//! are stored exactly as a PUT stores them.

use s3s::dto::{PutObjectInput, StreamingBlob};
use s3s::{S3Request, S3};

use super::objects::PhotoObjects;
use crate::storage::S3Client;

/// Copies `bucket` from the server at `source`; returns how many objects.
pub async fn import_bucket(
    source: &str,
    bucket: &str,
    into: &PhotoObjects,
) -> anyhow::Result<usize> {
    // moto takes any key pair; it only has to be signed in S3's style.
    let client = S3Client::fixed(source, bucket, "import", "import")?;
    let mut copied = 0;
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2("", token.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("listing {bucket} at {source}: {e}"))?;
        for object in &page.contents {
            copy_one(&client, bucket, &object.key, into).await?;
            copied += 1;
        }
        match page.next_continuation_token {
            Some(next) => token = Some(next),
            None => return Ok(copied),
        }
    }
}

async fn copy_one(
    client: &S3Client,
    bucket: &str,
    key: &str,
    into: &PhotoObjects,
) -> anyhow::Result<()> {
    let object = client
        .get_object(key)
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?;
    let header = |name: reqwest::header::HeaderName| {
        object
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let cache_control = header(reqwest::header::CACHE_CONTROL);
    let bytes = object
        .bytes()
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?;
    let length = i64::try_from(bytes.len())?;
    let input = PutObjectInput::builder()
        .bucket(bucket.to_owned())
        .key(key.to_owned())
        .content_length(Some(length))
        .content_type(content_type)
        .cache_control(cache_control)
        .body(Some(StreamingBlob::from(s3s::Body::from(bytes))))
        .build()
        .map_err(|e| anyhow::anyhow!("{key}: {e}"))?;
    let uri = format!("/{bucket}/{key}").parse()?;
    let request = S3Request {
        input,
        method: http::Method::PUT,
        uri,
        headers: http::HeaderMap::new(),
        extensions: http::Extensions::new(),
        credentials: None,
        region: None,
        service: None,
        trailing_headers: None,
    };
    into.put_object(request)
        .await
        .map_err(|e| anyhow::anyhow!("storing {key}: {e}"))?;
    Ok(())
}
