//! The object operations: PUT (a plain, signed-hash or `aws-chunked`
//! body, its checksum checked), GET and HEAD (ranges, conditional
//! requests, and the `response-*` overrides the app signs into its photo
//! links), DELETE and copy.

use std::collections::BTreeMap;
use std::io::SeekFrom;

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HttpDate};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use futures_util::StreamExt;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::aws_chunked::ChunkDecoder;
use super::error::S3Error;
use super::query::Query;
use super::signature::Payload;
use super::store::{Attributes, ObjectInfo, Store};
use super::xml;

const CHECKSUM_HEADER: &str = "x-amz-checksum-crc32";

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The attributes a PUT sets: standard headers and `x-amz-meta-*`.
fn attributes_of(request: &HttpRequest) -> Attributes {
    let text = |name| header(request, name).map(str::to_owned);
    let user_metadata: BTreeMap<String, String> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    // `aws-chunked` describes this request's body, not the object's.
    let content_encoding = text("content-encoding")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|v| !v.is_empty());
    Attributes {
        user_metadata: (!user_metadata.is_empty()).then_some(user_metadata),
        content_encoding,
        content_type: text("content-type"),
        content_disposition: text("content-disposition"),
        content_language: text("content-language"),
        cache_control: text("cache-control"),
        expires: text("expires"),
    }
}

/// What the body must match once received.
struct BodyChecks {
    sha256: Option<(String, Sha256)>,
    crc32: crc32fast::Hasher,
    decoded_length: Option<u64>,
    length: u64,
}

impl BodyChecks {
    fn update(&mut self, data: &[u8]) {
        if let Some((_, hash)) = &mut self.sha256 {
            hash.update(data);
        }
        self.crc32.update(data);
        self.length += data.len() as u64;
    }

    fn verify(self, checksum: Option<&str>) -> Result<(), S3Error> {
        if let Some((expected, hash)) = self.sha256 {
            if hex::encode(hash.finalize()) != expected {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
        }
        if let Some(expected) = self.decoded_length {
            if expected != self.length {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "IncompleteBody",
                    format!(
                        "x-amz-decoded-content-length says {expected} bytes, the body had {}",
                        self.length
                    ),
                ));
            }
        }
        if let Some(expected) = checksum {
            let computed = base64::engine::general_purpose::STANDARD
                .encode(self.crc32.finalize().to_be_bytes());
            if computed != expected {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    format!("the CRC32 checksum {expected} does not match the body's {computed}"),
                ));
            }
        }
        Ok(())
    }
}

pub async fn put_object(
    store: &Store,
    request: &HttpRequest,
    payload: Payload,
    mut body: web::Payload,
    bucket: &str,
    key: &str,
) -> Result<HttpResponse, S3Error> {
    let decoded_length = match header(request, "x-amz-decoded-content-length") {
        None => None,
        Some(text) => Some(text.parse().map_err(|_| {
            S3Error::invalid_argument(format!(
                "x-amz-decoded-content-length {text:?} is not a number"
            ))
        })?),
    };
    let (mut decoder, sha256) = match payload {
        Payload::Chunked { signer } => (Some(ChunkDecoder::new(signer)), None),
        Payload::Sha256(expected) => (None, Some((expected, Sha256::new()))),
        Payload::Unsigned => (None, None),
    };
    let mut checks = BodyChecks {
        sha256,
        crc32: crc32fast::Hasher::new(),
        decoded_length,
        length: 0,
    };
    let mut pending = store.begin_put(bucket, key).await?;
    let mut decoded = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| S3Error::invalid_request(format!("reading the body: {e}")))?;
        let data: &[u8] = match &mut decoder {
            Some(decoder) => {
                decoded.clear();
                decoder.push(&chunk, &mut decoded)?;
                &decoded
            }
            None => &chunk,
        };
        checks.update(data);
        pending.write(data).await?;
    }
    let trailer_checksum = match &decoder {
        Some(decoder) => {
            decoder.finish()?;
            decoder
                .trailers
                .iter()
                .find(|(name, _)| name == CHECKSUM_HEADER)
                .map(|(_, value)| value.clone())
        }
        None => None,
    };
    let checksum = header(request, CHECKSUM_HEADER)
        .map(str::to_owned)
        .or(trailer_checksum);
    checks.verify(checksum.as_deref())?;
    let info = pending.commit(&attributes_of(request)).await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::ETAG, info.etag()));
    if let Some(checksum) = checksum {
        response.insert_header((CHECKSUM_HEADER, checksum));
    }
    Ok(response.finish())
}

/// The bytes a `Range` header asks for, within `size`.
fn byte_range(range: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let invalid = || {
        S3Error::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            format!(
                "The requested range {range:?} is not satisfiable for an object of {size} bytes."
            ),
        )
    };
    let spec = range.strip_prefix("bytes=").ok_or_else(invalid)?;
    let (start, end) = spec.split_once('-').ok_or_else(invalid)?;
    let number = |text: &str| text.trim().parse::<u64>().map_err(|_| invalid());
    let (first, last) = match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => {
            let suffix = number(end)?.min(size);
            (size - suffix, size.saturating_sub(1))
        }
        (false, true) => (number(start)?, size.saturating_sub(1)),
        (false, false) => (number(start)?, number(end)?.min(size.saturating_sub(1))),
        (true, true) => return Err(invalid()),
    };
    if size == 0 || first > last || first >= size {
        return Err(invalid());
    }
    Ok((first, last))
}

/// Whether the client's copy is current (If-None-Match, If-Modified-Since,
/// the latter to the second, as HTTP dates go).
fn not_modified(request: &HttpRequest, info: &ObjectInfo) -> bool {
    if let Some(tags) = header(request, "if-none-match") {
        return tags
            .split(',')
            .any(|t| t.trim() == info.etag() || t.trim() == "*");
    }
    let modified = std::time::SystemTime::from(HttpDate::from(info.modified));
    header(request, "if-modified-since")
        .and_then(|text| text.parse::<HttpDate>().ok())
        .is_some_and(|since| std::time::SystemTime::from(since) >= modified)
}

fn describe(
    response: &mut HttpResponseBuilder,
    query: &Query,
    info: &ObjectInfo,
    attributes: &Attributes,
) {
    let chosen = |name: &str, stored: &Option<String>| {
        query
            .get(name)
            .map(str::to_owned)
            .or_else(|| stored.clone())
    };
    let content_type = chosen("response-content-type", &attributes.content_type)
        .unwrap_or_else(|| "binary/octet-stream".to_owned());
    response.insert_header((header::CONTENT_TYPE, content_type));
    let optional = [
        (
            "response-content-disposition",
            header::CONTENT_DISPOSITION,
            &attributes.content_disposition,
        ),
        (
            "response-cache-control",
            header::CACHE_CONTROL,
            &attributes.cache_control,
        ),
        (
            "response-content-encoding",
            header::CONTENT_ENCODING,
            &attributes.content_encoding,
        ),
        (
            "response-content-language",
            header::CONTENT_LANGUAGE,
            &attributes.content_language,
        ),
        ("response-expires", header::EXPIRES, &attributes.expires),
    ];
    for (override_name, name, stored) in optional {
        if let Some(value) = chosen(override_name, stored) {
            response.insert_header((name, value));
        }
    }
    for (name, value) in attributes.user_metadata.iter().flatten() {
        response.insert_header((format!("x-amz-meta-{name}"), value.as_str()));
    }
    response
        .insert_header((header::ETAG, info.etag()))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(info.modified)))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
}

pub async fn get_object(
    store: &Store,
    request: &HttpRequest,
    query: &Query,
    bucket: &str,
    key: &str,
) -> Result<HttpResponse, S3Error> {
    let (mut file, info, attributes) = store.open_object(bucket, key).await?;
    if not_modified(request, &info) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, info.etag()))
            .finish());
    }
    let (status, first, last) = match header(request, "range") {
        Some(range) => {
            let (first, last) = byte_range(range, info.size)?;
            (StatusCode::PARTIAL_CONTENT, first, last)
        }
        None => (StatusCode::OK, 0, info.size.saturating_sub(1)),
    };
    let length = if info.size == 0 { 0 } else { last - first + 1 };
    let mut response = HttpResponse::build(status);
    describe(&mut response, query, &info, &attributes);
    if status == StatusCode::PARTIAL_CONTENT {
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{}", info.size),
        ));
    }
    if request.method() == actix_web::http::Method::HEAD {
        // actix-web sends a HEAD's headers with the length of the body it
        // is given, and never the body itself.
        let nothing = futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        return Ok(response.body(SizedStream::new(length, nothing)));
    }
    file.seek(SeekFrom::Start(first)).await?;
    let stream = tokio_util::io::ReaderStream::new(file.take(length));
    Ok(response.body(SizedStream::new(length, stream)))
}

pub async fn delete_object(
    store: &Store,
    bucket: &str,
    key: &str,
) -> Result<HttpResponse, S3Error> {
    store.delete(bucket, key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `x-amz-copy-source: /BUCKET/KEY`; the attributes are copied unless
/// `x-amz-metadata-directive: REPLACE` gives new ones.
pub async fn copy_object(
    store: &Store,
    request: &HttpRequest,
    bucket: &str,
    key: &str,
) -> Result<HttpResponse, S3Error> {
    let source = header(request, "x-amz-copy-source").unwrap_or_default();
    let source = source.split('?').next().unwrap_or_default();
    let source = percent_decode_str(source).decode_utf8_lossy();
    let (from_bucket, from_key) =
        source
            .trim_start_matches('/')
            .split_once('/')
            .ok_or_else(|| {
                S3Error::invalid_argument(format!("x-amz-copy-source {source:?} is not BUCKET/KEY"))
            })?;
    let replacement = match header(request, "x-amz-metadata-directive") {
        None | Some("COPY") => None,
        Some("REPLACE") => Some(attributes_of(request)),
        Some(other) => {
            return Err(S3Error::invalid_argument(format!(
                "x-amz-metadata-directive {other:?}: use COPY or REPLACE"
            )))
        }
    };
    let info = store
        .copy((from_bucket, from_key), (bucket, key), replacement)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(xml::copy_result(&info)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_s3_reads_them() {
        assert_eq!(byte_range("bytes=0-9", 100).unwrap(), (0, 9));
        assert_eq!(byte_range("bytes=90-", 100).unwrap(), (90, 99));
        assert_eq!(byte_range("bytes=-10", 100).unwrap(), (90, 99));
        assert_eq!(byte_range("bytes=95-200", 100).unwrap(), (95, 99));
        assert_eq!(byte_range("bytes=-500", 100).unwrap(), (0, 99));
        for bad in [
            "bytes=100-",
            "bytes=5-2",
            "items=0-1",
            "bytes=-",
            "bytes=a-b",
        ] {
            assert_eq!(
                byte_range(bad, 100).unwrap_err().status,
                StatusCode::RANGE_NOT_SATISFIABLE,
                "{bad}"
            );
        }
    }
}
