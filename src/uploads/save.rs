//! Storing a checked photo all-or-nothing: the original and thumbnail go to
//! storage first, then the database row. If the row cannot be written the
//! objects are deleted again, so no row ever points at a missing object and
//! no failed upload leaves a row.

use bytes::Bytes;

use crate::db::{DbError, NewPhoto};
use crate::domain::photo_image::{InspectedPhoto, Thumbnail};
use crate::domain::{Caption, PhotoId};
use crate::error::AppError;
use crate::state::AppState;
use crate::storage::StorageError;

use super::TempUpload;

pub async fn save_photo(
    state: &AppState,
    user_id: i64,
    caption: Caption,
    original: TempUpload,
    photo: InspectedPhoto,
    thumbnail: Thumbnail,
) -> Result<PhotoId, AppError> {
    let id = PhotoId::generate();
    let object_key = format!("originals/{id}.{}", photo.format.extension());
    let thumb_key = format!("thumbnails/{id}.{}", thumbnail.format.extension());

    state
        .storage
        .put_file(&object_key, original.path(), photo.format.content_type())
        .await
        .map_err(storage_failed)?;
    original.mark_moved();

    if let Err(e) = state
        .storage
        .put_bytes(
            &thumb_key,
            Bytes::from(thumbnail.bytes),
            thumbnail.format.content_type(),
        )
        .await
    {
        remove_objects(state, &[&object_key]).await;
        return Err(storage_failed(e));
    }

    let row = NewPhoto {
        public_id: id.clone(),
        user_id,
        caption: caption.as_deref().map(str::to_owned),
        object_key: object_key.clone(),
        content_type: photo.format.content_type().to_owned(),
        size_bytes: photo.size_bytes as i64,
        width: i64::from(photo.width),
        height: i64::from(photo.height),
        sha256: photo.sha256,
        thumb_key: thumb_key.clone(),
        thumb_type: thumbnail.format.content_type().to_owned(),
        thumb_sha256: thumbnail.sha256,
    };
    match state.db.insert_photo(&row).await {
        Ok(()) => {}
        // A timed-out INSERT may still have been written: look before
        // removing the objects, or a row could be left pointing at nothing.
        Err(DbError::TimedOut(after)) => match state.db.find_photo(&id).await {
            Ok(Some(_)) => {
                tracing::warn!(photo_id = %id, ?after, "a slow photo INSERT was written after all");
            }
            Ok(None) => {
                remove_objects(state, &[&object_key, &thumb_key]).await;
                return Err(DbError::TimedOut(after).into());
            }
            Err(e) => {
                // Unknown: an object without its row is the lesser harm.
                tracing::error!(photo_id = %id, object_key, error = %e, "a photo INSERT timed out and could not be checked; its objects are kept");
                return Err(e.into());
            }
        },
        Err(e) => {
            remove_objects(state, &[&object_key, &thumb_key]).await;
            return Err(e.into());
        }
    }
    // Before the redirect: the uploader's next view must show the new photo.
    state.feed_cache.invalidate().await;
    Ok(id)
}

fn storage_failed(e: StorageError) -> AppError {
    tracing::error!(error = %e, "storing a photo failed");
    AppError::Unavailable(
        "The photo could not be stored right now, so nothing was uploaded. Please try again."
            .into(),
    )
}

async fn remove_objects(state: &AppState, keys: &[&str]) {
    for key in keys {
        if let Err(e) = state.storage.delete(key).await {
            tracing::error!(key, error = %e, "could not remove an object after a failed upload");
        }
    }
}
