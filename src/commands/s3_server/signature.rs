//! AWS Signature Version 4, checked on every request: in the
//! `Authorization` header (SDKs, the CLI, the app's own client) or in the
//! query string of a presigned URL (the photo links a browser follows).
//! Only the server's one key pair is accepted; any region is.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::S3Error;
use super::query::Query;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a header-signed request's time may be from ours (S3's figure).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest a presigned URL may live (S3's figure: 7 days).
const MAX_EXPIRES_S: u64 = 7 * 24 * 3600;

/// What SigV4 leaves unencoded: letters, digits and `-._~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn uri_encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The parts of a request that a signature covers.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path, percent-decoded.
    pub path: &'a str,
    /// The query string's parameters, decoded.
    pub query: &'a Query,
    /// Every value of a header, by its lower-case name.
    pub header: &'a dyn Fn(&str) -> Vec<String>,
}

/// How the body is covered by the signature.
#[derive(Debug, PartialEq)]
pub enum Payload {
    /// Not covered (presigned URLs; `UNSIGNED-PAYLOAD`).
    Unsigned,
    /// The SHA-256 of the body, in hex: the body must match it.
    Sha256(String),
    /// `aws-chunked`: chunks, each signed when `signer` is set, and maybe
    /// trailing headers (a checksum) after the last.
    Chunked { signer: Option<ChunkSigner> },
}

/// Verifies the signatures of an `aws-chunked` body's chunks, each chained
/// to the one before, starting from the request's own.
#[derive(Debug, PartialEq)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl ChunkSigner {
    /// Checks the signature of the next chunk (the empty last one too),
    /// given the SHA-256 of its data.
    pub fn check_chunk(&mut self, signature: &str, data_sha256: &[u8]) -> Result<(), S3Error> {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(b"")),
            hex::encode(data_sha256)
        );
        self.check(signature, &string_to_sign)
    }

    /// Checks the signature of the trailing headers, given canonically
    /// (`name:value\n` each).
    pub fn check_trailer(&mut self, signature: &str, canonical: &str) -> Result<(), S3Error> {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        self.check(signature, &string_to_sign)
    }

    fn check(&mut self, signature: &str, string_to_sign: &str) -> Result<(), S3Error> {
        let expected = hex::encode(hmac(&self.key, string_to_sign.as_bytes()));
        if !same(&expected, signature) {
            return Err(S3Error::signature_mismatch());
        }
        self.previous = expected;
        Ok(())
    }
}

/// Checks the request's signature against the one key pair.
pub fn verify(
    request: &RequestParts,
    access_key: &str,
    secret_key: &str,
    now: SystemTime,
) -> Result<Payload, S3Error> {
    let query = request.query.pairs();
    let signed = if request.query.has("X-Amz-Signature") {
        from_query(query, now)?
    } else {
        from_header(request, now)?
    };
    if signed.credential.access_key != access_key {
        return Err(S3Error::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "InvalidAccessKeyId",
            "The AWS access key Id you provided does not exist in our records.",
        ));
    }
    if !signed.signed_headers.iter().any(|h| h == "host") {
        return Err(S3Error::access_denied(
            "the host header must be signed (SignedHeaders lacks host)",
        ));
    }
    let canonical = canonical_request(request, query, &signed)?;
    let scope = signed.credential.scope();
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        signed.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(secret_key, &signed.credential);
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if !same(&expected, &signed.signature) {
        return Err(S3Error::signature_mismatch());
    }
    Ok(match signed.payload_hash.as_str() {
        "UNSIGNED-PAYLOAD" => Payload::Unsigned,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Payload::Chunked { signer: None },
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => {
            Payload::Chunked {
                signer: Some(ChunkSigner {
                    key,
                    amz_date: signed.amz_date,
                    scope,
                    previous: expected,
                }),
            }
        }
        hash if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Payload::Sha256(hash.to_ascii_lowercase())
        }
        other => {
            return Err(S3Error::invalid_argument(format!(
                "x-amz-content-sha256 {other:?} is neither a SHA-256 in hex nor a payload kind S3 knows"
            )))
        }
    })
}

struct Credential {
    access_key: String,
    date: String,
    region: String,
    service: String,
}

impl Credential {
    /// `AKID/20261126/us-east-1/s3/aws4_request`
    fn parse(text: &str) -> Result<Self, S3Error> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [access_key, date, region, service, "aws4_request"] => Ok(Self {
                access_key: (*access_key).to_owned(),
                date: (*date).to_owned(),
                region: (*region).to_owned(),
                service: (*service).to_owned(),
            }),
            _ => Err(malformed(format!(
                "the credential {text:?} is not KEY/DATE/REGION/SERVICE/aws4_request"
            ))),
        }
    }

    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

struct Signed {
    credential: Credential,
    amz_date: String,
    signed_headers: Vec<String>,
    signature: String,
    payload_hash: String,
}

fn malformed(message: String) -> S3Error {
    S3Error::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        "AuthorizationHeaderMalformed",
        message,
    )
}

fn from_header(request: &RequestParts, now: SystemTime) -> Result<Signed, S3Error> {
    let authorization = (request.header)("authorization")
        .into_iter()
        .next()
        .ok_or_else(|| {
            S3Error::access_denied(
                "the request is not signed: sign it with the stack's key pair (SigV4)",
            )
        })?;
    let fields = authorization
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| malformed(format!("only {ALGORITHM} signatures are accepted")))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in fields.split(',') {
        match field.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(Credential::parse(value)?),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(malformed(
            "the Authorization header needs Credential, SignedHeaders and Signature".to_owned(),
        ));
    };
    let amz_date = (request.header)("x-amz-date")
        .into_iter()
        .next()
        .ok_or_else(|| S3Error::access_denied("the x-amz-date header is missing"))?;
    let time = parse_amz_date(&amz_date)?;
    let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(S3Error::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "RequestTimeTooSkewed",
            "The difference between the request time and the server's time is too large: check the client's clock.",
        ));
    }
    check_date_matches(&credential, &amz_date)?;
    let payload_hash = (request.header)("x-amz-content-sha256")
        .into_iter()
        .next()
        .ok_or_else(|| {
            S3Error::invalid_request(
                "the x-amz-content-sha256 header is missing (SigV4 for S3 requires it)",
            )
        })?;
    Ok(Signed {
        credential,
        amz_date,
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature,
        payload_hash,
    })
}

fn from_query(query: &[(String, String)], now: SystemTime) -> Result<Signed, S3Error> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| S3Error::access_denied(format!("the presigned URL lacks {name}")))
    };
    if get("X-Amz-Algorithm")? != ALGORITHM {
        return Err(S3Error::access_denied(format!(
            "only {ALGORITHM} presigned URLs are accepted"
        )));
    }
    let credential = Credential::parse(&get("X-Amz-Credential")?)?;
    let amz_date = get("X-Amz-Date")?;
    let expires: u64 = get("X-Amz-Expires")?
        .parse()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES_S).contains(s))
        .ok_or_else(|| {
            S3Error::access_denied(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_S}"
            ))
        })?;
    let signed_at = parse_amz_date(&amz_date)?;
    if now > signed_at + Duration::from_secs(expires) {
        return Err(S3Error::access_denied("Request has expired"));
    }
    if signed_at > now + MAX_SKEW {
        return Err(S3Error::access_denied("Request is not valid yet"));
    }
    check_date_matches(&credential, &amz_date)?;
    let payload_hash = get("X-Amz-Content-Sha256").unwrap_or_else(|_| "UNSIGNED-PAYLOAD".into());
    Ok(Signed {
        credential,
        amz_date,
        signed_headers: get("X-Amz-SignedHeaders")?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: get("X-Amz-Signature")?,
        payload_hash,
    })
}

fn check_date_matches(credential: &Credential, amz_date: &str) -> Result<(), S3Error> {
    if amz_date.get(..8) == Some(credential.date.as_str()) {
        Ok(())
    } else {
        Err(malformed(format!(
            "the credential's date {} is not the request's date {amz_date}",
            credential.date
        )))
    }
}

/// `20261126T194501Z`
fn parse_amz_date(text: &str) -> Result<SystemTime, S3Error> {
    let bad = || S3Error::access_denied(format!("{text:?} is not a time like 20261126T194501Z"));
    if text.len() != 16 || &text[8..9] != "T" || !text.ends_with('Z') {
        return Err(bad());
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    humantime::parse_rfc3339(&rfc3339).map_err(|_| bad())
}

fn canonical_request(
    request: &RequestParts,
    query: &[(String, String)],
    signed: &Signed,
) -> Result<String, S3Error> {
    // S3 signs the path encoded once, each byte but the unreserved and `/`.
    let canonical_uri = request
        .path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| name != "X-Amz-Signature")
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &signed.signed_headers {
        let values = (request.header)(name);
        if values.is_empty() {
            return Err(S3Error::access_denied(format!(
                "the signed header {name} is not in the request"
            )));
        }
        let values: Vec<String> = values
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{headers}\n{}\n{}",
        request.method,
        signed.signed_headers.join(";"),
        signed.payload_hash
    ))
}

fn signing_key(secret_key: &str, credential: &Credential) -> [u8; 32] {
    let date = hmac(
        format!("AWS4{secret_key}").as_bytes(),
        credential.date.as_bytes(),
    );
    let region = hmac(&date, credential.region.as_bytes());
    let service = hmac(&region, credential.service.as_bytes());
    hmac(&service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn same(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's worked example of a header-signed GET with a Range header
    /// (the S3 API reference, "Example: GET Object").
    #[test]
    fn the_aws_documented_example_verifies() {
        let headers = |name: &str| -> Vec<String> {
            match name {
                "host" => vec!["examplebucket.s3.amazonaws.com".into()],
                "range" => vec!["bytes=0-9".into()],
                "x-amz-content-sha256" => vec![
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                ],
                "x-amz-date" => vec!["20130524T000000Z".into()],
                "authorization" => vec!["AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41".into()],
                _ => vec![],
            }
        };
        let request = RequestParts {
            method: "GET",
            path: "/test.txt",
            query: &Query::parse(""),
            header: &headers,
        };
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let at = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(
            verify(&request, "AKIAIOSFODNN7EXAMPLE", secret, at),
            Ok(Payload::Sha256(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into()
            ))
        );
        let wrong = verify(&request, "AKIAIOSFODNN7EXAMPLE", "another", at).unwrap_err();
        assert_eq!(wrong.code, "SignatureDoesNotMatch");
        let late = verify(
            &request,
            "AKIAIOSFODNN7EXAMPLE",
            secret,
            at + Duration::from_secs(16 * 60),
        )
        .unwrap_err();
        assert_eq!(late.code, "RequestTimeTooSkewed");
    }

    /// AWS's worked example of a presigned URL ("Example: a presigned URL").
    #[test]
    fn the_aws_documented_presigned_url_verifies_until_it_expires() {
        let headers = |name: &str| -> Vec<String> {
            match name {
                "host" => vec!["examplebucket.s3.amazonaws.com".into()],
                _ => vec![],
            }
        };
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let request = RequestParts {
            method: "GET",
            path: "/test.txt",
            query: &Query::parse(query),
            header: &headers,
        };
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let at = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(
            verify(
                &request,
                "AKIAIOSFODNN7EXAMPLE",
                secret,
                at + Duration::from_secs(60)
            ),
            Ok(Payload::Unsigned)
        );
        let expired = verify(
            &request,
            "AKIAIOSFODNN7EXAMPLE",
            secret,
            at + Duration::from_secs(86_401),
        )
        .unwrap_err();
        assert_eq!(expired.message, "Request has expired");
        let other_key = verify(&request, "SOMEONEELSE", secret, at).unwrap_err();
        assert_eq!(other_key.code, "InvalidAccessKeyId");
    }
}
