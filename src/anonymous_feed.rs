//! The front page as a visitor without a session sees it, kept ready.
//!
//! Such a page holds nothing of the visitor's own: it is the same for every
//! one of them until the grid, the feed's source line ("served from cache,
//! 3 s old") or the simulated latency changes. So the last one rendered is
//! kept, and served as is (a reference to the same bytes) while those stay
//! the same; at most one rendering a second for a cached feed, whose age
//! in seconds is on the page.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use bytes::Bytes;

use crate::feed_grid::RenderedGrid;

/// What an anonymous feed page shows besides the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInputs {
    pub latency_ms: u64,
    pub source_kind: &'static str,
    pub records: usize,
    pub age_seconds: Option<i64>,
}

struct Kept {
    /// Held, so that its address cannot be reused by another grid.
    grid: Arc<RenderedGrid>,
    inputs: PageInputs,
    body: Bytes,
}

#[derive(Default)]
pub struct AnonymousFeed {
    last: ArcSwapOption<Kept>,
}

impl std::fmt::Debug for AnonymousFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnonymousFeed").finish_non_exhaustive()
    }
}

impl AnonymousFeed {
    /// The kept page, if it was rendered from this grid and these inputs.
    pub fn get(&self, grid: &Arc<RenderedGrid>, inputs: &PageInputs) -> Option<Bytes> {
        let kept = self.last.load();
        let kept = kept.as_ref()?;
        (Arc::ptr_eq(&kept.grid, grid) && kept.inputs == *inputs).then(|| kept.body.clone())
    }

    pub fn keep(&self, grid: Arc<RenderedGrid>, inputs: PageInputs, body: Bytes) {
        self.last.store(Some(Arc::new(Kept { grid, inputs, body })));
    }
}
