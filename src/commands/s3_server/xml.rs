//! The XML documents S3 answers with, written as text (each is a handful
//! of elements), and the one it reads: DeleteObjects' list of keys.

use std::fmt::Write;

use super::escape::{escape, XML_DECLARATION as HEADER};
use super::store::{Listing, ObjectInfo};

const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Which listing call is answered: V2 pages with continuation tokens, V1
/// with markers.
pub enum ListVersion {
    V2 {
        continuation_token: Option<String>,
        start_after: Option<String>,
    },
    V1 {
        marker: Option<String>,
    },
}

pub struct ListRequest<'a> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub max_keys: usize,
    pub version: ListVersion,
    /// `encoding-type=url`: keys and prefixes percent-encoded but for
    /// their slashes, as S3 does, so that any byte survives the XML (the
    /// AWS CLI and rusty-s3 ask for it).
    pub url_encoded: bool,
}

impl ListRequest<'_> {
    fn key(&self, key: &str) -> String {
        if self.url_encoded {
            key.split('/')
                .map(super::signature::uri_encode)
                .collect::<Vec<_>>()
                .join("/")
        } else {
            escape(key)
        }
    }
}

pub fn list_bucket(request: &ListRequest, listing: &Listing) -> String {
    let mut out = format!(
        r#"{HEADER}<ListBucketResult xmlns="{NAMESPACE}"><Name>{}</Name><Prefix>{}</Prefix><MaxKeys>{}</MaxKeys><IsTruncated>{}</IsTruncated>"#,
        escape(request.bucket),
        request.key(request.prefix),
        request.max_keys,
        listing.next.is_some()
    );
    if request.url_encoded {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    if let Some(delimiter) = request.delimiter {
        let _ = write!(out, "<Delimiter>{}</Delimiter>", request.key(delimiter));
    }
    match &request.version {
        ListVersion::V2 {
            continuation_token,
            start_after,
        } => {
            let count = listing.objects.len() + listing.common_prefixes.len();
            let _ = write!(out, "<KeyCount>{count}</KeyCount>");
            if let Some(token) = continuation_token {
                let _ = write!(
                    out,
                    "<ContinuationToken>{}</ContinuationToken>",
                    escape(token)
                );
            }
            if let Some(after) = start_after {
                let _ = write!(out, "<StartAfter>{}</StartAfter>", request.key(after));
            }
            if let Some(next) = &listing.next {
                let _ = write!(
                    out,
                    "<NextContinuationToken>{}</NextContinuationToken>",
                    escape(next)
                );
            }
        }
        ListVersion::V1 { marker } => {
            let _ = write!(
                out,
                "<Marker>{}</Marker>",
                request.key(marker.as_deref().unwrap_or(""))
            );
            if let Some(next) = &listing.next {
                let _ = write!(out, "<NextMarker>{}</NextMarker>", request.key(next));
            }
        }
    }
    for object in &listing.objects {
        let _ = write!(
            out,
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            request.key(&object.key),
            humantime::format_rfc3339_millis(object.info.modified),
            escape(&object.info.etag()),
            object.info.size
        );
    }
    for prefix in &listing.common_prefixes {
        let _ = write!(
            out,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            request.key(prefix)
        );
    }
    out.push_str("</ListBucketResult>");
    out
}

pub fn list_buckets(buckets: &[(String, std::time::SystemTime)]) -> String {
    let mut out = format!(
        r#"{HEADER}<ListAllMyBucketsResult xmlns="{NAMESPACE}"><Owner><ID>photoscale</ID><DisplayName>photoscale</DisplayName></Owner><Buckets>"#
    );
    for (name, created) in buckets {
        let _ = write!(
            out,
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
            escape(name),
            humantime::format_rfc3339_millis(*created)
        );
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    out
}

pub fn bucket_location() -> String {
    format!(r#"{HEADER}<LocationConstraint xmlns="{NAMESPACE}"/>"#)
}

pub fn copy_result(info: &ObjectInfo) -> String {
    format!(
        "{HEADER}<CopyObjectResult><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        humantime::format_rfc3339_millis(info.modified),
        escape(&info.etag())
    )
}

/// DeleteObjects' answer: each key deleted, or why not.
pub fn delete_result(deleted: &[String], failed: &[(String, String)], quiet: bool) -> String {
    let mut out = format!(r#"{HEADER}<DeleteResult xmlns="{NAMESPACE}">"#);
    if !quiet {
        for key in deleted {
            let _ = write!(out, "<Deleted><Key>{}</Key></Deleted>", escape(key));
        }
    }
    for (key, message) in failed {
        let _ = write!(
            out,
            "<Error><Key>{}</Key><Code>InternalError</Code><Message>{}</Message></Error>",
            escape(key),
            escape(message)
        );
    }
    out.push_str("</DeleteResult>");
    out
}

/// The body of a DeleteObjects request: its keys, and whether it asked
/// for a quiet answer.
#[derive(Debug, serde::Deserialize)]
#[serde(rename = "Delete")]
pub struct DeleteRequest {
    #[serde(rename = "Object", default)]
    pub objects: Vec<DeleteKey>,
    #[serde(rename = "Quiet", default)]
    pub quiet: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct DeleteKey {
    #[serde(rename = "Key")]
    pub key: String,
}

pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    quick_xml::de::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_request_is_read() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a/1.jpg</Key></Object><Object><Key>b &amp; c</Key></Object><Quiet>true</Quiet></Delete>"#;
        let request = parse_delete(body).unwrap();
        let keys: Vec<&str> = request.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a/1.jpg", "b & c"]);
        assert!(request.quiet);
        assert!(parse_delete(b"<Delete><Object>").is_err());
    }
}
