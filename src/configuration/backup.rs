//! The `[backup]` section: scheduled backups (see backup/schedule.rs).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// Make a backup this often (off when not set), e.g. "10m".
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub every: Option<Duration>,
    /// Then delete all but the newest this many (keep all when not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep: Option<u32>,
    /// A bucket for the backups, under `backups/` (on AWS at levels 0 and 1,
    /// the stack's artifacts bucket); else they go beside the photos.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<super::S3Settings>,
}
