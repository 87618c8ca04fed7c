//! Whether the feed cache answered last time, so an outage is logged once
//! when it starts and once when it ends, not on every page view.

use std::sync::atomic::{AtomicBool, Ordering};

use super::CacheError;

#[derive(Debug, Default)]
pub struct CacheHealth {
    down: AtomicBool,
}

impl CacheHealth {
    pub async fn observe<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, CacheError>>,
    ) -> Option<T> {
        match call.await {
            Ok(value) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("the feed cache is answering again");
                }
                Some(value)
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "the feed cache is unavailable; serving the feed from the database until it returns");
                }
                None
            }
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}
