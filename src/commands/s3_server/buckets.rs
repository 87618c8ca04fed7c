//! The bucket operations: list, create, look at and delete buckets, list a
//! bucket's objects (V2 and V1), and delete many objects at once.

use actix_web::{web, HttpResponse};
use futures_util::StreamExt;

use super::error::S3Error;
use super::query::Query;
use super::store::{ListQuery, Store};
use super::xml::{self, ListRequest, ListVersion};

/// S3's most keys per listing page, and its default.
const MAX_KEYS: usize = 1000;
/// The largest DeleteObjects body read (1000 keys of 1 KiB and their XML).
const MAX_DELETE_BODY: usize = 2 * 1024 * 1024;

fn xml_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml")
        .body(body)
}

pub async fn list_buckets(store: &Store) -> Result<HttpResponse, S3Error> {
    Ok(xml_response(xml::list_buckets(
        &store.list_buckets().await?,
    )))
}

pub async fn create_bucket(store: &Store, bucket: &str) -> Result<HttpResponse, S3Error> {
    store.create_bucket(bucket).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Location", format!("/{bucket}")))
        .finish())
}

pub async fn head_bucket(store: &Store, bucket: &str) -> Result<HttpResponse, S3Error> {
    store.bucket_exists(bucket).await?;
    Ok(HttpResponse::Ok().finish())
}

pub async fn delete_bucket(store: &Store, bucket: &str) -> Result<HttpResponse, S3Error> {
    store.delete_bucket(bucket).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn location(store: &Store, bucket: &str) -> Result<HttpResponse, S3Error> {
    store.bucket_exists(bucket).await?;
    Ok(xml_response(xml::bucket_location()))
}

pub async fn list_objects(
    store: &Store,
    bucket: &str,
    query: &Query,
) -> Result<HttpResponse, S3Error> {
    let max_keys = match query.get("max-keys") {
        None => MAX_KEYS,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| {
                S3Error::invalid_argument(format!("max-keys {text:?} is not a whole number"))
            })?
            .min(MAX_KEYS),
    };
    let url_encoded = match query.get("encoding-type") {
        None => false,
        Some("url") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(format!(
                "encoding-type {other:?}: the only encoding is url"
            )))
        }
    };
    let version = if query.get("list-type") == Some("2") {
        ListVersion::V2 {
            continuation_token: query.get("continuation-token").map(str::to_owned),
            start_after: query.get("start-after").map(str::to_owned),
        }
    } else {
        ListVersion::V1 {
            marker: query.get("marker").map(str::to_owned),
        }
    };
    let after = match &version {
        ListVersion::V2 {
            continuation_token,
            start_after,
        } => continuation_token.as_deref().or(start_after.as_deref()),
        ListVersion::V1 { marker } => marker.as_deref(),
    }
    .map(str::to_owned);
    let request = ListRequest {
        bucket,
        prefix: query.get("prefix").unwrap_or(""),
        delimiter: query.get("delimiter").filter(|d| !d.is_empty()),
        max_keys,
        version,
        url_encoded,
    };
    let listing = store
        .list(
            bucket,
            &ListQuery {
                prefix: request.prefix,
                delimiter: request.delimiter,
                after: after.as_deref(),
                max_keys,
            },
        )
        .await?;
    Ok(xml_response(xml::list_bucket(&request, &listing)))
}

pub async fn delete_objects(
    store: &Store,
    bucket: &str,
    mut body: web::Payload,
) -> Result<HttpResponse, S3Error> {
    store.bucket_exists(bucket).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| S3Error::invalid_request(format!("reading the body: {e}")))?;
        if bytes.len() + chunk.len() > MAX_DELETE_BODY {
            return Err(S3Error::invalid_request(
                "the DeleteObjects body is too large: at most 1000 keys",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let request = xml::parse_delete(&bytes).map_err(|e| {
        S3Error::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "MalformedXML",
            format!("the DeleteObjects body is not a <Delete> list of keys: {e}"),
        )
    })?;
    if request.objects.len() > MAX_KEYS {
        return Err(S3Error::invalid_request(
            "at most 1000 keys per DeleteObjects",
        ));
    }
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for object in request.objects {
        match store.delete(bucket, &object.key).await {
            Ok(()) => deleted.push(object.key),
            Err(e) => failed.push((object.key, e.message)),
        }
    }
    Ok(xml_response(xml::delete_result(
        &deleted,
        &failed,
        request.quiet,
    )))
}
