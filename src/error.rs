//! The app's error type. Each variant knows its HTTP status and a message that
//! is safe to show; internal details are logged, never sent to the browser.
//! The `error_pages` middleware turns the marker left here into a full page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("login required")]
    LoginRequired,
    #[error("CSRF token missing or wrong")]
    CsrfRejected,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("upload larger than {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: u64 },
    #[error("the photo's object is missing from this instance's storage")]
    MissingObject { instance: String },
    #[error("the session store is unavailable")]
    SessionStoreDown,
    /// An abuse limit: the client must wait before trying again.
    #[error("too many attempts ({limit}); retry after {retry_after:?}")]
    TooManyRequests {
        limit: &'static str,
        retry_after: std::time::Duration,
    },
    /// A dependency is down; the text is shown to the user, so keep it generic.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal(detail.into())
    }

    fn title_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => (
                "Not found",
                "There is nothing at this address. It may have been mistyped.".into(),
            ),
            AppError::LoginRequired => (
                "Please log in",
                "You need to be logged in to do that.".into(),
            ),
            AppError::CsrfRejected => (
                "Form expired",
                "This form was out of date or came from another site, so nothing was changed. \
                 Go back, reload the page and try again."
                    .into(),
            ),
            AppError::BadRequest(msg) => ("Bad request", msg.clone()),
            AppError::RequestTimeout => (
                "Upload too slow",
                "The upload did not arrive in time, so nothing was stored. \
                 Please try again on a faster connection, or with a smaller file."
                    .into(),
            ),
            AppError::PayloadTooLarge { limit_bytes } => (
                "File too large",
                format!(
                    "Photos can be at most {}. Nothing was uploaded; choose a smaller file.",
                    human_bytes(*limit_bytes)
                ),
            ),
            AppError::MissingObject { instance } => (
                "Photo file missing",
                format!(
                    "This photo is listed, but its file is not in the storage of instance {instance}. \
                     Several instances with their own local directories cannot see each other's photos: \
                     use storage.backend = \"shared\" or \"s3\"."
                ),
            ),
            AppError::SessionStoreDown => ("Temporarily unavailable", SESSION_STORE_DOWN.into()),
            AppError::TooManyRequests { retry_after, .. } => (
                "Too many attempts",
                format!(
                    "There have been too many attempts from here, so this one was not tried. \
                     Please wait {} and try again.",
                    humantime::format_duration(*retry_after)
                ),
            ),
            AppError::Unavailable(msg) => ("Temporarily unavailable", msg.clone()),
            AppError::Internal(_) => (
                "Something went wrong",
                "The server hit an unexpected problem. It has been logged; please try again."
                    .into(),
            ),
        }
    }
}

pub const SESSION_STORE_DOWN: &str = "Logging in and forms need the session store, which is not reachable \
     right now, so nothing was changed. Browsing the photos still works; please try again in a moment.";

/// Left in a response's extensions for the `error_pages` middleware to render.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::MissingObject { .. } => StatusCode::NOT_FOUND,
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::SessionStoreDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            AppError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "dependency unavailable")
            }
            _ => {}
        }
        let (title, message) = self.title_and_message();
        let mut response = HttpResponse::build(self.status_code())
            .content_type(mime::TEXT_PLAIN_UTF_8)
            .body(format!("{title}: {message}"));
        response.extensions_mut().insert(ErrorPage {
            title: title.to_owned(),
            message,
        });
        match self {
            AppError::CsrfRejected => crate::audit::AuditEvent::CsrfRefused.mark(&mut response),
            AppError::TooManyRequests { limit, retry_after } => {
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    retry_after.as_secs().max(1).into(),
                );
                crate::audit::AuditEvent::RateLimited { limit }.mark(&mut response);
            }
            _ => {}
        }
        response
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                AppError::Unavailable(
                    "The database is not reachable right now. Please try again in a moment.".into(),
                )
            }
            DbError::TimedOut(after) => {
                tracing::warn!(?after, "database call timed out");
                AppError::Unavailable(
                    "The database is slow to answer right now, so this page could not be made. \
                     Please try again in a moment."
                        .into(),
                )
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<tera::Error> for AppError {
    fn from(e: tera::Error) -> Self {
        use std::error::Error;
        let mut detail = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            detail.push_str(&format!(": {s}"));
            source = s.source();
        }
        AppError::Internal(format!("rendering template: {detail}"))
    }
}

/// "10 MiB", "512 KiB", "900 bytes".
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

impl From<crate::abuse_limits::MustWait> for AppError {
    fn from(wait: crate::abuse_limits::MustWait) -> Self {
        AppError::TooManyRequests {
            limit: wait.limit,
            retry_after: wait.retry_after,
        }
    }
}
