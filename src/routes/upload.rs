//! The upload form and its submission.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::see_other;
use crate::domain::photo_image::{self, ImageLimits, PhotoError, PhotoRejected};
use crate::domain::Caption;
use crate::error::AppError;
use crate::page::Page;
use crate::session::AppSession;
use crate::state::AppState;
use crate::uploads::bounded_body::BoundedBody;
use crate::uploads::receive::{drain, ReceiveLimits};
use crate::uploads::{self, ReceiveError};

/// Names the photo an upload created.
pub const PHOTO_ID_HEADER: &str = "x-photo-id";

pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
) -> Result<HttpResponse, AppError> {
    match session.require_user() {
        Ok(_) => {}
        Err(AppError::LoginRequired) => {
            session.set_flash("Log in to upload photos.")?;
            return Ok(see_other("/login?next=/upload"));
        }
        Err(e) => return Err(e),
    }
    upload_page(&req, &state, StatusCode::OK, None, "")
}

fn upload_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    caption: &str,
) -> Result<HttpResponse, AppError> {
    Page::new(req, state, true)
        .with("error", &error)
        .with("caption", caption)
        .with("max_bytes", &state.settings.uploads.max_bytes)
        .with("max_dimension", &state.settings.uploads.max_dimension)
        .respond(state, "upload.html", status)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AppSession,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let max_bytes = state.settings.uploads.max_bytes;
    // We read on past an error only this far, so the client sees our page;
    // past it the body fails, so no request makes us buffer more.
    let drain_cap = max_bytes.saturating_mul(2).saturating_add(1 << 20);
    if declared_length(&req).is_some_and(|length| length > drain_cap) {
        // Not worth reading: the answer is known from the headers.
        return Err(AppError::PayloadTooLarge {
            limit_bytes: max_bytes,
        });
    }
    let (body, received_bytes) = BoundedBody::new(body, drain_cap);
    let mut payload = Multipart::new(req.headers(), body);

    let user = match session.require_user() {
        Ok(user) => user,
        Err(e) => {
            drain(&mut payload, drain_cap).await;
            return Err(e);
        }
    };
    let started = std::time::Instant::now();
    let csrf_ok = |token: Option<&str>| session.verify_csrf(token).is_ok();
    let limits = ReceiveLimits {
        max_bytes,
        received: &received_bytes,
        csrf_ok: &csrf_ok,
    };
    let deadline = state.settings.uploads.receive_timeout;
    let receiving = uploads::receive_upload(&mut payload, &state.upload_dir, &limits);
    let received = match tokio::time::timeout(deadline, receiving).await {
        Err(_) => {
            tracing::info!(after = ?deadline, "upload body not received in time");
            return Err(AppError::RequestTimeout);
        }
        Ok(Ok(received)) => received,
        Ok(Err(ReceiveError::TooLarge)) => {
            drain(&mut payload, drain_cap).await;
            return Err(AppError::PayloadTooLarge {
                limit_bytes: max_bytes,
            });
        }
        Ok(Err(ReceiveError::CsrfRejected)) => {
            drain(&mut payload, drain_cap).await;
            // The same answer as for any form: a 503 when the store is down.
            session.verify_csrf(None)?;
            return Err(AppError::CsrfRejected);
        }
        Ok(Err(ReceiveError::Malformed(why))) => {
            return Err(AppError::BadRequest(format!(
                "The upload form could not be read ({why}). Please try again."
            )))
        }
        Ok(Err(ReceiveError::Io(e))) => {
            return Err(AppError::internal(format!("receiving upload: {e}")))
        }
    };
    session.verify_csrf(received.csrf_token.as_deref())?;

    let reject =
        |status, message: &str| upload_page(&req, &state, status, Some(message), &received.caption);
    let caption = match Caption::parse(&received.caption) {
        Ok(caption) => caption,
        Err(message) => return reject(StatusCode::UNPROCESSABLE_ENTITY, &message),
    };
    let Some(photo) = received.photo else {
        return reject(StatusCode::BAD_REQUEST, &PhotoRejected::Empty.to_string());
    };

    let limits = ImageLimits {
        max_dimension: state.settings.uploads.max_dimension,
        max_pixels: state.settings.uploads.max_pixels,
        thumbnail_size: state.settings.uploads.thumbnail_size,
    };
    let received_in = started.elapsed();
    let checked = async {
        let path = photo.file.path().to_owned();
        let cost = web::block(move || photo_image::decode_cost(&path, &limits))
            .await
            .map_err(|e| AppError::internal(format!("image thread: {e}")))?;
        let cost = match cost {
            Ok(cost) => cost,
            Err(e) => return Ok(Err(e)),
        };
        // Decoding waits for its share of the memory budget, so the sum of
        // the decodes under way never passes it, whatever the images.
        let budget = state.settings.uploads.decode_memory_bytes;
        if cost > budget {
            return Ok(Err(PhotoRejected::TooMuchMemory {
                needed_mib: cost.div_ceil(1 << 20),
                budget_mib: budget >> 20,
            }
            .into()));
        }
        let permits = u32::try_from(crate::startup::kib(cost).max(1)).unwrap_or(u32::MAX);
        let _memory = state
            .decode_budget
            .acquire_many(permits)
            .await
            .map_err(|_| AppError::internal("decode budget closed"))?;
        let path = photo.file.path().to_owned();
        web::block(move || photo_image::inspect_and_thumbnail(&path, &limits))
            .await
            .map_err(|e| AppError::internal(format!("image thread: {e}")))
    }
    .await?;
    let (inspected, thumbnail) = match checked {
        Ok(done) => done,
        Err(PhotoError::Rejected(why)) => {
            tracing::info!(reason = %why, "upload rejected");
            return reject(rejection_status(&why), &why.to_string());
        }
        Err(PhotoError::Io(e)) => return Err(AppError::internal(format!("reading upload: {e}"))),
    };

    let checked_in = started.elapsed() - received_in;
    let id =
        uploads::save_photo(&state, user.id, caption, photo.file, inspected, thumbnail).await?;
    tracing::info!(
        photo_id = %id,
        user_id = user.id,
        receive_ms = received_in.as_millis() as u64,
        check_ms = checked_in.as_millis() as u64,
        store_ms = (started.elapsed() - received_in - checked_in).as_millis() as u64,
        "photo uploaded"
    );
    session.set_flash("Photo uploaded.")?;
    // The new photo's id, for a program that uploads (the soak test's audit).
    let photo_id = (PHOTO_ID_HEADER, id.as_str().to_owned());
    if sent_by_script(&req) {
        // static/upload.js goes there itself; a redirect would be followed
        // inside the request and use up the flash message on the way.
        return Ok(HttpResponse::Ok()
            .insert_header(photo_id)
            .json(serde_json::json!({ "location": "/" })));
    }
    let mut response = see_other("/");
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static(PHOTO_ID_HEADER),
        actix_web::http::header::HeaderValue::from_str(id.as_str())
            .map_err(|e| AppError::internal(format!("photo id header: {e}")))?,
    );
    Ok(response)
}

/// The enhanced form (static/upload.js) marks its requests.
/// The body's length as the client declared it, if it did.
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn sent_by_script(req: &HttpRequest) -> bool {
    req.headers()
        .get("X-Requested-With")
        .is_some_and(|v| v == "XMLHttpRequest")
}

fn rejection_status(why: &PhotoRejected) -> StatusCode {
    match why {
        PhotoRejected::Empty => StatusCode::BAD_REQUEST,
        PhotoRejected::UnsupportedType | PhotoRejected::Unreadable(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        PhotoRejected::TooManyPixels { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        PhotoRejected::TooMuchMemory { .. } => StatusCode::PAYLOAD_TOO_LARGE,
    }
}
