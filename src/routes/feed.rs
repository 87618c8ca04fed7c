//! The front page: the latest N photos, newest first, through the read-through
//! feed cache when one is configured.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::db::{now_millis, PhotoRecord};
use crate::error::AppError;
use crate::page::Page;
use crate::state::AppState;

pub const FEED_SOURCE_HEADER: &str = "x-feed-source";

/// Where this page's photos came from, as the page and `X-Feed-Source` say.
#[derive(Serialize)]
struct FeedSource {
    /// "db" or "cache"
    kind: &'static str,
    records: usize,
    /// Age of the cached entry, for "served from cache (3 s old)".
    age_seconds: Option<i64>,
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // The classic demo's `$latency`: slow this page down without blocking a worker.
    state.latency.apply().await;
    let (photos, source) = latest_photos(&state).await?;
    let cdn = state.settings.storage.cdn_base_url.as_deref();
    let photos = state.storage.views(photos, cdn).await;
    let mut response = Page::new(&req, &state, true)
        .with("photos", &photos)
        .with("feed_size", &state.settings.feed.size)
        .with("feed_source", &source)
        .respond(&state, "feed.html", StatusCode::OK)?;
    response.headers_mut().insert(
        HeaderName::from_static(FEED_SOURCE_HEADER),
        HeaderValue::from_static(source.kind),
    );
    Ok(response)
}

/// Cache first; on a miss (or a cache that is down) the database, and the
/// result goes back into the cache under the generation it was read in.
async fn latest_photos(state: &AppState) -> Result<(Vec<PhotoRecord>, FeedSource), AppError> {
    let size = state.settings.feed.size;
    let (generation, cached) = state.feed_cache.get(size).await;
    if let Some(feed) = cached {
        let source = FeedSource {
            kind: "cache",
            records: feed.photos.len(),
            age_seconds: Some(((now_millis() - feed.stored_at_ms) / 1000).max(0)),
        };
        return Ok((feed.photos, source));
    }
    let photos = state.db.latest_photos(size).await?;
    state.feed_cache.put(generation, size, &photos).await;
    let source = FeedSource {
        kind: "db",
        records: photos.len(),
        age_seconds: None,
    };
    Ok((photos, source))
}
