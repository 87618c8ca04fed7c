//! The context every page template gets: who is serving, who is logged in, the
//! session fingerprint, the CSRF token for forms, and a one-time message.

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tera::Context;

use crate::error::AppError;
use crate::session::AppSession;
use crate::state::AppState;

pub struct Page {
    context: Context,
    /// True when the page shows something of this visitor's own (a user, a
    /// session, a form token, a message); false for a visitor without a
    /// session, whose page is the same as every other such visitor's.
    personal: bool,
}

impl Page {
    /// The shared parts; `take_flash` consumes the one-time message.
    pub fn new(req: &HttpRequest, state: &AppState, take_flash: bool) -> Self {
        let session = AppSession::of(req);
        let mut context = Self::without_request(state).context;
        let fingerprint = session.fingerprint();
        let user = session.user().map(|u| u.username);
        let csrf_token = session.csrf_token();
        let flash = if take_flash {
            session.take_flash()
        } else {
            None
        };
        let personal =
            fingerprint.is_some() || user.is_some() || csrf_token.is_some() || flash.is_some();
        context.insert("session_fingerprint", &fingerprint);
        context.insert("user", &user);
        context.insert("csrf_token", &csrf_token);
        context.insert("path", req.path());
        context.insert("flash", &flash);
        Self { context, personal }
    }

    /// Whether this page shows anything of the visitor's own.
    pub fn is_personal(&self) -> bool {
        self.personal
    }

    /// The shared parts for a page rendered where no request is at hand (an
    /// error from middleware): no user, no session, no form token.
    pub fn without_request(state: &AppState) -> Self {
        let mut context = Context::new();
        context.insert("instance", &state.instance);
        context.insert("version", crate::build_info::BUILD_ID);
        context.insert("latency_ms", &(state.latency.get().as_millis() as u64));
        context.insert("session_fingerprint", &None::<String>);
        context.insert("user", &None::<String>);
        context.insert("csrf_token", &None::<String>);
        context.insert("path", "");
        context.insert("flash", &None::<String>);
        Self {
            context,
            personal: false,
        }
    }

    /// The form token of a visitor without a session: the page is theirs.
    pub fn with_form_token(mut self, token: &str) -> Self {
        self.context.insert("csrf_token", token);
        self.personal = true;
        self
    }

    pub fn with<T: serde::Serialize + ?Sized>(mut self, key: &str, value: &T) -> Self {
        self.context.insert(key, value);
        self
    }

    pub fn render(&self, state: &AppState, template: &str) -> Result<String, AppError> {
        Ok(state.templates.render(template, &self.context)?)
    }

    pub fn respond(
        &self,
        state: &AppState,
        template: &str,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        let html = self.render(state, template)?;
        let mut response = html_response(status, html);
        if self.personal {
            no_store(&mut response);
        }
        Ok(response)
    }
}

/// A page that carries a form token, a username or a one-time message is
/// this visitor's alone: no cache (browser or shared) may keep it.
pub fn no_store(response: &mut HttpResponse) {
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
}

/// An HTML page as a response.
pub fn html_response(
    status: StatusCode,
    html: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(html)
}
