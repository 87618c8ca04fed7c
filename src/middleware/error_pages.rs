//! Renders friendly HTML pages for error responses: the ones our handlers mark
//! with `ErrorPage`, and plain-text errors from the framework (a malformed form,
//! a bad path). JSON responses such as `/healthz` pass through untouched.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use crate::audit::AuditEvent;
use crate::error::ErrorPage;
use crate::page::Page;
use crate::state::AppState;

pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(response);
    }
    let marked = response.response().extensions().get::<ErrorPage>().cloned();
    let page = match marked {
        Some(page) => page,
        None if is_plain_text(&response) => generic_page(status),
        None => return Ok(response),
    };
    let Some(state) = response
        .request()
        .app_data::<web::Data<AppState>>()
        .cloned()
    else {
        return Ok(response);
    };
    let html = Page::new(response.request(), &state, false)
        .with("status", &status.as_u16())
        .with("title", &page.title)
        .with("message", &page.message)
        .render(&state, "error.html");
    let Ok(html) = html else {
        tracing::error!("the error page template failed to render");
        return Ok(response);
    };
    let mut builder = HttpResponse::build(status);
    builder.insert_header(ContentType::html());
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let mut page = builder.body(html);
    // What the handler left for the audit log goes on with the new page.
    if let Some(event) = response
        .response()
        .extensions()
        .get::<AuditEvent>()
        .cloned()
    {
        event.mark(&mut page);
    }
    Ok(response.into_response(page))
}

fn is_plain_text(response: &ServiceResponse<BoxBody>) -> bool {
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v
            .to_str()
            .map(|t| t.starts_with("text/plain"))
            .unwrap_or(false),
    }
}

fn generic_page(status: actix_web::http::StatusCode) -> ErrorPage {
    let title = status.canonical_reason().unwrap_or("Error").to_owned();
    let message = if status.is_server_error() {
        "The server hit an unexpected problem. Please try again.".to_owned()
    } else {
        "The request could not be understood. Go back and try again.".to_owned()
    };
    ErrorPage { title, message }
}
