//! The front page: the latest N photos, newest first, through the read-through
//! feed cache when one is configured.

use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;

use crate::anonymous_feed::PageInputs;
use crate::db::{now_millis, PhotoRecord};
use crate::error::AppError;
use crate::feed_grid::GridParts;
use crate::page::{html_response, no_store, Page};
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
    let parts = GridParts {
        storage: &state.storage,
        templates: &state.templates,
        cdn: state.settings.storage.cdn_base_url.as_deref(),
    };
    let grid = state.feed_grid.for_photos(&photos, &parts).await?;
    let page = Page::new(&req, &state, true);
    let inputs = PageInputs {
        latency_ms: state.latency.get().as_millis() as u64,
        source_kind: source.kind,
        records: source.records,
        age_seconds: source.age_seconds,
    };
    let personal = page.is_personal();
    let kept = (!personal)
        .then(|| state.anonymous_feed.get(&grid, &inputs))
        .flatten();
    let body = match kept {
        Some(body) => body,
        None => {
            let html = page
                .with("grid", &grid.html)
                // Not `{% if grid %}`: Tera would HTML-escape the whole grid to test it.
                .with("has_photos", &!grid.html.is_empty())
                .with("feed_size", &state.settings.feed.size)
                .with("feed_source", &source)
                .render(&state, "feed.html")?;
            let body = Bytes::from(html);
            if !personal {
                state.anonymous_feed.keep(grid, inputs, body.clone());
            }
            body
        }
    };
    let mut response = html_response(StatusCode::OK, body);
    if personal {
        no_store(&mut response);
    }
    response.headers_mut().insert(
        HeaderName::from_static(FEED_SOURCE_HEADER),
        HeaderValue::from_static(source.kind),
    );
    Ok(response)
}

/// Photos as shared by the cache, or freshly read.
enum Photos {
    Cached(Arc<crate::feed_cache::CachedFeed>),
    Read(Vec<PhotoRecord>),
}

impl std::ops::Deref for Photos {
    type Target = [PhotoRecord];

    fn deref(&self) -> &[PhotoRecord] {
        match self {
            Photos::Cached(feed) => &feed.photos,
            Photos::Read(photos) => photos,
        }
    }
}

/// Cache first; on a miss (or a cache that is down) the database, and the
/// result goes back into the cache under the generation it was read in.
async fn latest_photos(state: &AppState) -> Result<(Photos, FeedSource), AppError> {
    let size = state.settings.feed.size;
    let lookup = state.feed_cache.get(size).await;
    if let Some(feed) = lookup.feed {
        let source = FeedSource {
            kind: "cache",
            records: feed.photos.len(),
            age_seconds: Some(((now_millis() - feed.stored_at_ms) / 1000).max(0)),
        };
        return Ok((Photos::Cached(feed), source));
    }
    let photos = state.db.latest_photos(size).await?;
    state.feed_cache.put(lookup.generation, size, &photos).await;
    let source = FeedSource {
        kind: "db",
        records: photos.len(),
        age_seconds: None,
    };
    Ok((Photos::Read(photos), source))
}
