//! The front page: the latest N photos, newest first.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::page::Page;
use crate::state::AppState;

pub const FEED_SOURCE_HEADER: &str = "x-feed-source";

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // The classic demo's `$latency`: slow this page down without blocking a worker.
    state.latency.apply().await;
    let photos = state.db.latest_photos(state.settings.feed.size).await?;
    let mut response = Page::new(&req, &state, true)
        .with("photos", &photos)
        .with("feed_size", &state.settings.feed.size)
        .with("feed_source", "db")
        .respond(&state, "feed.html", StatusCode::OK)?;
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static(FEED_SOURCE_HEADER),
        actix_web::http::header::HeaderValue::from_static("db"),
    );
    Ok(response)
}
