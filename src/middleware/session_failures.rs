//! Catches what the session middleware fails with (the store could not save
//! or delete a session) and answers with our error page instead of an opaque
//! 500: a 503 that names the cause when the store is down.
//!
//! It sits just outside the session middleware. An error raised there has no
//! response and no request to render with, so the app state is taken before
//! the call and the page is rendered without per-request details.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use crate::error::SESSION_STORE_DOWN;
use crate::middleware::request_log::INSTANCE_HEADER;
use crate::middleware::security_headers::SecurityHeaders;
use crate::page::Page;
use crate::state::AppState;

pub async fn session_failures(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let headers = req.app_data::<web::Data<SecurityHeaders>>().cloned();
    let error = match next.call(req).await {
        Ok(response) => return Ok(response.map_into_boxed_body()),
        Err(error) => error,
    };
    let Some(state) = state else {
        return Err(error);
    };
    let (status, title, message) = if state.session_health.is_down() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            SESSION_STORE_DOWN,
        )
    } else {
        tracing::error!(error = %error, "request failed in the session middleware");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server hit an unexpected problem. It has been logged; please try again.",
        )
    };
    let html = Page::without_request(&state)
        .with("status", &status.as_u16())
        .with("title", title)
        .with("message", message)
        .render(&state, "error.html")
        .unwrap_or_else(|_| format!("{title}: {message}"));
    let mut page = HttpResponse::build(status)
        .insert_header(ContentType::html())
        .insert_header((INSTANCE_HEADER, state.instance.id.clone()))
        .insert_header(("cache-control", "no-store"))
        .body(html);
    // No outer middleware sees an error's response: the headers go on here.
    if let Some(headers) = headers {
        headers.apply(page.headers_mut());
    }
    Err(actix_web::error::InternalError::from_response(error, page).into())
}
