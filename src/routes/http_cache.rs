//! Conditional GET: strong ETags and `304 Not Modified`.

use actix_web::http::header::{self, EntityTag, Header, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse};

/// True when the request's `If-None-Match` already names `etag`.
pub fn is_fresh(req: &HttpRequest, etag: &EntityTag) -> bool {
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
        Err(_) => false,
    }
}

pub fn not_modified(etag: &EntityTag, cache_control: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header(header::ETag(etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control.to_owned()))
        .finish()
}
