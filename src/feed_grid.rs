//! The front page's photo grid, rendered once and reused.
//!
//! Every view of the feed shows the same grid until the feed changes, so
//! the rendered HTML is kept with the records it shows and reused while
//! the next view's records are the same. It is rendered again when its
//! relative times ("3 minutes ago") would change, and before any S3 link
//! in it gets close to expiry. Only the page around it (who is logged in,
//! the form token, the feed's source) is rendered per request.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;

use crate::db::{now_millis, PhotoRecord};
use crate::error::AppError;
use crate::state::AppState;
use crate::templates::time_ago_changes_at;

#[derive(Debug)]
pub struct RenderedGrid {
    photos: Vec<PhotoRecord>,
    /// Empty when there are no photos (the page shows its empty state).
    pub html: String,
    /// Until when (ms since the epoch) it may be shown.
    valid_until_ms: i64,
}

#[derive(Debug, Default)]
pub struct FeedGrid {
    last: ArcSwapOption<RenderedGrid>,
}

impl FeedGrid {
    /// The grid for `photos`: the last one rendered, if it shows the same
    /// records and is still current, else a new rendering.
    pub async fn for_photos(
        &self,
        state: &AppState,
        photos: &[PhotoRecord],
    ) -> Result<Arc<RenderedGrid>, AppError> {
        if let Some(grid) = self.last.load_full() {
            if now_millis() < grid.valid_until_ms && grid.photos == photos {
                return Ok(grid);
            }
        }
        let grid = Arc::new(render(state, photos).await?);
        self.last.store(Some(grid.clone()));
        Ok(grid)
    }
}

async fn render(state: &AppState, photos: &[PhotoRecord]) -> Result<RenderedGrid, AppError> {
    let now = SystemTime::now();
    let cdn = state.settings.storage.cdn_base_url.as_deref();
    let views = state.storage.views(photos.to_vec(), cdn).await;
    let times = photos
        .iter()
        .map(|p| time_ago_changes_at(p.created_at, now));
    let links = views.iter().filter_map(|v| v.links_valid_until_ms);
    let valid_until_ms = times.chain(links).min().unwrap_or(i64::MAX);
    let html = if views.is_empty() {
        String::new()
    } else {
        let mut context = tera::Context::new();
        context.insert("photos", &views);
        state.templates.render("feed_grid.html", &context)?
    };
    Ok(RenderedGrid {
        photos: photos.to_vec(),
        html,
        valid_until_ms,
    })
}
