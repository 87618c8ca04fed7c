//! Whether the session store answered last time. Shared by the store (which
//! records it) and the pages (which answer 503 instead of "form expired" when
//! a session could not be loaded because the store is down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct SessionHealth {
    down: Arc<AtomicBool>,
}

impl SessionHealth {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub fn mark_up(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the session store is answering again");
        }
    }

    pub fn mark_down(&self, error: &anyhow::Error) {
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %format!("{error:#}"), "the session store is unavailable; pages that need a session answer 503 until it returns");
        }
    }
}
