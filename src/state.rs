//! Everything a request handler may use, shared by all workers.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::anonymous_feed::AnonymousFeed;
use crate::configuration::Settings;
use crate::db::Db;
use crate::feed_cache::FeedCache;
use crate::feed_grid::FeedGrid;
use crate::health_status::LatestHealth;
use crate::instance::InstanceInfo;
use crate::latency::SimulatedLatency;
use crate::password_hashing::PasswordHashing;
use crate::photo_index::PhotoIndex;
use crate::session_store::SessionHealth;
use crate::storage::{HotObjects, Storage};
use crate::templates::Templates;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub storage: Storage,
    /// Photo records by id, so serving a photo's bytes needs no query.
    pub photos: PhotoIndex,
    /// The most requested photo objects, in memory.
    pub hot_objects: HotObjects,
    pub feed_cache: FeedCache,
    /// The last rendered photo grid of the front page.
    pub feed_grid: FeedGrid,
    /// The last front page rendered for a visitor without a session.
    pub anonymous_feed: AnonymousFeed,
    /// The newest background health check, which `/healthz` answers with.
    pub health: LatestHealth,
    /// Whether the session store answered lately (always up for cookies).
    pub session_health: SessionHealth,
    pub templates: Templates,
    pub instance: InstanceInfo,
    pub latency: SimulatedLatency,
    /// argon2id, a bounded number of hashes at a time.
    pub passwords: PasswordHashing,
    /// CSRF tokens for forms shown to visitors without a session.
    pub form_tokens: crate::form_tokens::FormTokens,
    /// Failed logins, sign-ups and wrong admin tokens, counted fleet-wide.
    pub limits: crate::abuse_limits::AbuseLimits,
    /// The memory decoding may take at once, one permit per KiB: an upload
    /// takes its image's `decode_cost` before it decodes.
    pub decode_budget: Semaphore,
    /// Where uploads are streamed before they are checked (per instance).
    pub upload_dir: PathBuf,
}
