//! Everything a request handler may use, shared by all workers.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::configuration::Settings;
use crate::db::Db;
use crate::feed_cache::FeedCache;
use crate::instance::InstanceInfo;
use crate::latency::SimulatedLatency;
use crate::session_store::SessionHealth;
use crate::storage::Storage;
use crate::templates::Templates;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub storage: Storage,
    pub feed_cache: FeedCache,
    /// Whether the session store answered lately (always up for cookies).
    pub session_health: SessionHealth,
    pub templates: Templates,
    pub instance: InstanceInfo,
    pub latency: SimulatedLatency,
    /// Bounds how many images are decoded at once: each can take
    /// width × height × 4 bytes of memory.
    pub image_slots: Semaphore,
    /// Where uploads are streamed before they are checked (per instance).
    pub upload_dir: PathBuf,
}
