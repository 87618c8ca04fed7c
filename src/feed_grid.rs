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
use crate::storage::Storage;
use crate::templates::{time_ago_changes_at, Templates};

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
        photos: &[PhotoRecord],
        parts: &GridParts<'_>,
    ) -> Result<Arc<RenderedGrid>, AppError> {
        if let Some(grid) = self.last.load_full() {
            if now_millis() < grid.valid_until_ms && grid.photos == photos {
                return Ok(grid);
            }
        }
        let grid = Arc::new(render(parts, photos).await?);
        self.last.store(Some(grid.clone()));
        Ok(grid)
    }
}

/// What rendering a grid takes: the photo links and the template.
pub struct GridParts<'a> {
    pub storage: &'a Storage,
    pub templates: &'a Templates,
    /// The CDN in front of the photos, if any.
    pub cdn: Option<&'a str>,
}

async fn render(parts: &GridParts<'_>, photos: &[PhotoRecord]) -> Result<RenderedGrid, AppError> {
    let now = SystemTime::now();
    let views = parts.storage.views(photos.to_vec(), parts.cdn).await;
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
        parts.templates.render("feed_grid.html", &context)?
    };
    Ok(RenderedGrid {
        photos: photos.to_vec(),
        html,
        valid_until_ms,
    })
}
