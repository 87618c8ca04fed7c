//! `photoscale s3-server --import-from URL`: copies every object of an
//! S3-compatible server (moto, for stacks made when moto was the local S3
//! server) into this server's directory, then exits. The objects are
//! written through the same S3 implementation that serves them, so they
//! are stored exactly as a PUT stores them.

use aws_sdk_s3::primitives::ByteStream;
use s3s::dto::{PutObjectInput, StreamingBlob};
use s3s::{S3Request, S3};

use super::objects::PhotoObjects;

/// Copies `bucket` from the server at `source`; returns how many objects.
pub async fn import_bucket(
    source: &str,
    bucket: &str,
    into: &PhotoObjects,
) -> anyhow::Result<usize> {
    let client = source_client(source);
    let mut copied = 0;
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "listing {bucket} at {source}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            copy_one(&client, bucket, key, into).await?;
            copied += 1;
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return Ok(copied),
        }
    }
}

async fn copy_one(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    into: &PhotoObjects,
) -> anyhow::Result<()> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading {key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })?;
    let content_type = object.content_type().map(str::to_owned);
    let cache_control = object.cache_control().map(str::to_owned);
    let bytes = collect(object.body).await?;
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

async fn collect(body: ByteStream) -> anyhow::Result<bytes::Bytes> {
    Ok(body.collect().await?.into_bytes())
}

/// moto takes any key pair; it only has to be signed in S3's style.
fn source_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .http_client(crate::storage::s3_http_client())
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "import", "import", None, None, "import",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
