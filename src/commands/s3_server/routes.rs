//! Every request: its signature checked, then sent to the S3 operation its
//! method, path (`/BUCKET/KEY`, path style) and query name.

use std::time::SystemTime;

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

use super::error::S3Error;
use super::query::Query;
use super::signature::{self, Payload, RequestParts};
use super::store::Store;
use super::{buckets, objects};

pub struct ServerState {
    pub store: Store,
    pub access_key: String,
    pub secret_key: SecretString,
}

/// Sub-resources of S3 that this server does not keep.
const UNSUPPORTED: [&str; 10] = [
    "acl",
    "tagging",
    "versioning",
    "versions",
    "policy",
    "cors",
    "lifecycle",
    "website",
    "encryption",
    "uploads",
];

pub async fn handle(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<ServerState>,
) -> HttpResponse {
    let head = request.method() == Method::HEAD;
    match dispatch(&request, body, &state).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(method = %request.method(), path = request.path(), %error, "S3 request refused");
            error.into_response(request.path(), head)
        }
    }
}

async fn dispatch(
    request: &HttpRequest,
    body: web::Payload,
    state: &ServerState,
) -> Result<HttpResponse, S3Error> {
    let decoded = percent_decode_str(request.path())
        .decode_utf8()
        .map_err(|_| S3Error::invalid_argument("the path is not UTF-8"))?;
    let query = Query::parse(request.query_string());
    let payload = authorize(request, &decoded, &query, state)?;
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let store = &state.store;
    if let Some(name) = UNSUPPORTED.iter().find(|name| query.has(name)) {
        return Err(S3Error::not_implemented(&format!(
            "the ?{name} sub-resource"
        )));
    }
    if query.has("uploadId") || query.has("partNumber") {
        return Err(S3Error::not_implemented(
            "multipart upload (one PUT takes an object of any size)",
        ));
    }
    let method = request.method();
    match (bucket.is_empty(), key.is_empty()) {
        (true, _) if method == Method::GET => buckets::list_buckets(store).await,
        (true, _) => Err(method_not_allowed()),
        (false, true) => match *method {
            Method::PUT => buckets::create_bucket(store, bucket).await,
            Method::HEAD => buckets::head_bucket(store, bucket).await,
            Method::DELETE => buckets::delete_bucket(store, bucket).await,
            Method::GET if query.has("location") => buckets::location(store, bucket).await,
            Method::GET => buckets::list_objects(store, bucket, &query).await,
            Method::POST if query.has("delete") => {
                buckets::delete_objects(store, bucket, body).await
            }
            _ => Err(method_not_allowed()),
        },
        (false, false) => match *method {
            Method::PUT if request.headers().contains_key("x-amz-copy-source") => {
                objects::copy_object(store, request, bucket, key).await
            }
            Method::PUT => objects::put_object(store, request, payload, body, bucket, key).await,
            Method::GET | Method::HEAD => {
                objects::get_object(store, request, &query, bucket, key).await
            }
            Method::DELETE => objects::delete_object(store, bucket, key).await,
            _ => Err(method_not_allowed()),
        },
    }
}

/// Checks the signature over the request's decoded `path` and `query`.
fn authorize(
    request: &HttpRequest,
    path: &str,
    query: &Query,
    state: &ServerState,
) -> Result<Payload, S3Error> {
    let header = |name: &str| -> Vec<String> {
        request
            .headers()
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect()
    };
    let parts = RequestParts {
        method: request.method().as_str(),
        path,
        query,
        header: &header,
    };
    signature::verify(
        &parts,
        &state.access_key,
        state.secret_key.expose_secret(),
        SystemTime::now(),
    )
}

fn method_not_allowed() -> S3Error {
    S3Error::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}
