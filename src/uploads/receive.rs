//! Reads the upload form (`csrf_token`, `caption`, `photo`) from a multipart
//! body. The photo is streamed to disk chunk by chunk, so memory use does not
//! grow with the file, and counting stops the moment it passes the size limit.
//! The file is synced to disk later, once its metadata has been stripped
//! (`photo_image::inspect_and_thumbnail`).

use std::path::Path;

use actix_multipart::{Field, Multipart};
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

use super::TempUpload;

/// The form's text fields are small; anything longer is refused.
const MAX_TEXT_FIELD: usize = 4096;

/// The form has three fields; a request with many more is not our form.
const MAX_PARTS: usize = 8;

/// What the whole request may hold beyond the photo: part headers, the
/// boundaries and the text fields.
pub const FORM_OVERHEAD: u64 = 64 * 1024;

#[derive(Debug, Default)]
pub struct ReceivedUpload {
    pub csrf_token: Option<String>,
    pub caption: String,
    pub photo: Option<ReceivedPhoto>,
}

/// The photo field, on disk.
#[derive(Debug)]
pub struct ReceivedPhoto {
    pub file: TempUpload,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the upload is larger than the limit")]
    TooLarge,
    /// The photo came without a valid form token: not read, not stored.
    #[error("the form token is missing or wrong")]
    CsrfRejected,
    #[error("the form could not be read: {0}")]
    Malformed(String),
    #[error("writing the temporary file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<actix_multipart::MultipartError> for ReceiveError {
    fn from(e: actix_multipart::MultipartError) -> Self {
        match e {
            actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
                ReceiveError::TooLarge
            }
            e => ReceiveError::Malformed(e.to_string()),
        }
    }
}

/// What the receiver checks as it reads.
pub struct ReceiveLimits<'a> {
    /// The largest photo, in bytes.
    pub max_bytes: u64,
    /// Bytes of the whole body read so far (see `BoundedBody`).
    pub received: &'a std::cell::Cell<u64>,
    /// Whether a form token is valid; asked before the photo is written.
    pub csrf_ok: &'a dyn Fn(Option<&str>) -> bool,
}

pub async fn receive_upload(
    payload: &mut Multipart,
    temp_dir: &Path,
    limits: &ReceiveLimits<'_>,
) -> Result<ReceivedUpload, ReceiveError> {
    let mut form = ReceivedUpload::default();
    let mut parts = 0;
    while let Some(mut field) = payload.try_next().await? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ReceiveError::Malformed(
                "the form has too many parts".into(),
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csrf_token" => form.csrf_token = Some(read_text(&mut field).await?),
            "caption" => form.caption = read_text(&mut field).await?,
            "photo" if form.photo.is_none() => {
                // Our form sends its token first: a photo without a valid
                // one is refused before a byte of it is written.
                if !(limits.csrf_ok)(form.csrf_token.as_deref()) {
                    return Err(ReceiveError::CsrfRejected);
                }
                form.photo = Some(write_to_temp(&mut field, temp_dir, limits.max_bytes).await?);
            }
            // Unknown fields are read and dropped.
            _ => while field.try_next().await?.is_some() {},
        }
        if limits.received.get() > limits.max_bytes + FORM_OVERHEAD {
            return Err(ReceiveError::TooLarge);
        }
    }
    Ok(form)
}

async fn read_text(field: &mut Field) -> Result<String, ReceiveError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.try_next().await? {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(ReceiveError::Malformed("a text field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ReceiveError::Malformed("a text field is not UTF-8".into()))
}

async fn write_to_temp(
    field: &mut Field,
    dir: &Path,
    max_bytes: u64,
) -> Result<ReceivedPhoto, ReceiveError> {
    let temp = TempUpload::new_in(dir);
    let mut file = tokio::fs::File::create(temp.path()).await?;
    let mut written: u64 = 0;
    while let Some(chunk) = field.try_next().await? {
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(ReceiveError::TooLarge);
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(ReceivedPhoto { file: temp })
}

/// Reads and discards what is left of the body (up to `cap` bytes), so the
/// client gets to read our error page instead of a reset connection.
pub async fn drain(payload: &mut Multipart, cap: u64) {
    let mut seen: u64 = 0;
    while let Ok(Some(mut field)) = payload.try_next().await {
        while let Ok(Some(chunk)) = field.try_next().await {
            seen += chunk.len() as u64;
            if seen > cap {
                return;
            }
        }
    }
}
