//! CSS, JavaScript and images from `static/`, compiled into the binary.

use actix_web::http::header::{self, EntityTag};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use super::http_cache;
use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "static/"]
struct StaticFiles;

const CACHE_CONTROL: &str = "public, max-age=3600";

pub async fn serve(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let file = StaticFiles::get(&path).ok_or(AppError::NotFound)?;
    let etag = EntityTag::new_strong(hex::encode(file.metadata.sha256_hash()));
    if http_cache::is_fresh(&req, &etag) {
        return Ok(http_cache::not_modified(&etag, CACHE_CONTROL));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.metadata.mimetype()))
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .body(file.data.into_owned()))
}
