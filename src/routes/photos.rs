//! A photo's page, and its bytes (original and thumbnail) with caching headers.
//! A photo never changes under its id, so its content hash is a strong ETag and
//! browsers may keep it for a year.

use std::sync::Arc;

use actix_web::http::header::{self, EntityTag};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

use super::http_cache;
use crate::db::PhotoRecord;
use crate::domain::PhotoId;
use crate::error::AppError;
use crate::page::Page;
use crate::state::AppState;
use crate::storage::StorageError;

const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

async fn find(state: &AppState, raw_id: &str) -> Result<Arc<PhotoRecord>, AppError> {
    let id = PhotoId::parse(raw_id).ok_or(AppError::NotFound)?;
    state
        .photos
        .find(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let photo = find(&state, &id).await?;
    let cdn = state.settings.storage.cdn_base_url.as_deref();
    let photo = state.storage.view(PhotoRecord::clone(&photo), cdn).await;
    Page::new(&req, &state, true).with("photo", &photo).respond(
        &state,
        "photo.html",
        StatusCode::OK,
    )
}

/// `image` (the original) or `thumb`.
pub async fn media(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, variant) = path.into_inner();
    let photo = find(&state, &id).await?;
    let (key, content_type, sha256) = match variant.as_str() {
        "image" => (&photo.object_key, &photo.content_type, &photo.sha256),
        "thumb" => (&photo.thumb_key, &photo.thumb_type, &photo.thumb_sha256),
        _ => return Err(AppError::NotFound),
    };
    serve_object(&req, &state, key, content_type, sha256).await
}

async fn serve_object(
    req: &HttpRequest,
    state: &AppState,
    key: &str,
    content_type: &str,
    sha256: &str,
) -> Result<HttpResponse, AppError> {
    // S3 in presigned mode: send the browser to the bucket.
    if let Some(url) = state.storage.presigned_url(key).await {
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .finish());
    }
    let etag = EntityTag::new_strong(sha256.to_owned());
    if http_cache::is_fresh(req, &etag) {
        return Ok(http_cache::not_modified(&etag, CACHE_CONTROL));
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            crate::storage::inline_disposition(key),
        ))
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    if let Some(bytes) = state.hot_objects.get(key) {
        return Ok(in_pieces(response, bytes));
    }
    let body = state
        .storage
        .get(key)
        .await
        .map_err(|e| unreadable(state, e))?;
    if !state.hot_objects.admits(body.length) {
        return Ok(response.no_chunking(body.length).streaming(body.stream));
    }
    drop(body);
    let bytes = state
        .storage
        .get_bytes(key)
        .await
        .map_err(|e| unreadable(state, e))?;
    state.hot_objects.insert(key, bytes.clone());
    Ok(in_pieces(response, bytes))
}

/// A body sent as slices of one buffer (no copies): the HTTP writer copies
/// each into its own buffer, which stays small and is reused, rather than
/// growing to the whole object and being reallocated for every response.
fn in_pieces(mut response: actix_web::HttpResponseBuilder, bytes: Bytes) -> HttpResponse {
    const PIECE: usize = 32 * 1024;
    let length = bytes.len();
    let pieces = (0..length)
        .step_by(PIECE)
        .map(move |start| Ok::<_, std::io::Error>(bytes.slice(start..(start + PIECE).min(length))));
    response
        .no_chunking(length as u64)
        .streaming(futures_util::stream::iter(pieces))
}

fn unreadable(state: &AppState, e: StorageError) -> AppError {
    match e {
        StorageError::NotFound(key) => {
            // Only a misconfigured fleet gets here: instances with separate
            // `local` directories behind one load balancer.
            tracing::error!(key, storage = %state.storage.describe(), "a photo's object is missing from this instance's storage");
            AppError::MissingObject {
                instance: state.instance.id.clone(),
            }
        }
        other => {
            tracing::warn!(error = %other, "reading a photo failed");
            AppError::Unavailable(format!(
                "Photo storage is not reachable right now ({}).",
                kind_of(&other)
            ))
        }
    }
}

fn kind_of(e: &StorageError) -> &'static str {
    match e {
        StorageError::NotFound(_) => "missing object",
        StorageError::InvalidKey(_) => "invalid key",
        StorageError::Io { .. } => "I/O error",
        StorageError::Remote { .. } => "object store error",
    }
}
