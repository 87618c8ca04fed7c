//! Where the browser fetches a photo from. By default the app's own
//! `/photos/{id}/image|thumb`; with S3 in `presigned` mode a short-lived signed
//! URL straight to the bucket; with `storage.cdn_base_url` the CDN's URL
//! (CloudFront-style: in front of the bucket for S3, in front of the app
//! otherwise).

use serde::Serialize;

use super::Storage;
use crate::db::PhotoRecord;

/// A photo as templates show it: the record plus the two URLs to load it from.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    #[serde(flatten)]
    pub record: PhotoRecord,
    pub image_url: String,
    pub thumb_url: String,
    /// Until when (ms since the epoch) both links may still be handed out;
    /// None: they never expire.
    #[serde(skip)]
    pub links_valid_until_ms: Option<i64>,
}

impl Storage {
    pub async fn view(&self, record: PhotoRecord, cdn_base_url: Option<&str>) -> PhotoView {
        let id = &record.public_id;
        let (image_url, image_until) = self
            .link(
                &record.object_key,
                &format!("/photos/{id}/image"),
                cdn_base_url,
            )
            .await;
        let (thumb_url, thumb_until) = self
            .link(
                &record.thumb_key,
                &format!("/photos/{id}/thumb"),
                cdn_base_url,
            )
            .await;
        let links_valid_until_ms = match (image_until, thumb_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        PhotoView {
            record,
            image_url,
            thumb_url,
            links_valid_until_ms,
        }
    }

    pub async fn views(
        &self,
        records: Vec<PhotoRecord>,
        cdn_base_url: Option<&str>,
    ) -> Vec<PhotoView> {
        let mut views = Vec::with_capacity(records.len());
        for record in records {
            views.push(self.view(record, cdn_base_url).await);
        }
        views
    }

    /// The URL for `key`, and until when it may be handed out (presigned
    /// links expire).
    async fn link(
        &self,
        key: &str,
        app_path: &str,
        cdn_base_url: Option<&str>,
    ) -> (String, Option<i64>) {
        match cdn_base_url.map(|base| base.trim_end_matches('/')) {
            Some(base) if self.is_object_store() => {
                (format!("{base}/{}", self.cdn_path(key)), None)
            }
            Some(base) => (format!("{base}{app_path}"), None),
            None => match self.presigned_link(key).await {
                Some((url, until)) => (url, Some(until)),
                None => (app_path.to_owned(), None),
            },
        }
    }
}
