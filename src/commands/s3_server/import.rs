//! `photoscale s3-server --import-from URL`: copies every object of an
//! S3-compatible server (moto, for stacks made when moto was the local S3
//! server) into this server's directory, then exits. The objects are
//! written through the same store that a PUT writes to, so they are
//! stored exactly as a PUT stores them.

use super::store::{Attributes, Store};
use crate::storage::S3Client;

/// Copies `bucket` from the server at `source`; returns how many objects.
pub async fn import_bucket(source: &str, bucket: &str, into: &Store) -> anyhow::Result<usize> {
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

async fn copy_one(client: &S3Client, bucket: &str, key: &str, into: &Store) -> anyhow::Result<()> {
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
    let attributes = Attributes {
        content_type: header(reqwest::header::CONTENT_TYPE),
        cache_control: header(reqwest::header::CACHE_CONTROL),
        ..Attributes::default()
    };
    let bytes = object
        .bytes()
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?;
    into.put_bytes(bucket, key, &bytes, &attributes)
        .await
        .map_err(|e| anyhow::anyhow!("storing {key}: {e}"))?;
    Ok(())
}
