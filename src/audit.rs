//! The audit log: one `warn` line (target `audit`) for each event an operator
//! watching for abuse wants to see, with the client's address and never a
//! secret: failed logins (the name tried, not the password), refused CSRF
//! tokens, rate-limit hits and requests with a wrong admin token.
//!
//! A handler marks its response with an `AuditEvent`; the request log
//! middleware, which knows the client's address, writes the line. So the
//! line is written once, whichever code path produced the response.

use actix_web::dev::ServiceResponse;
use actix_web::HttpResponse;
use ipnet::IpNet;

use crate::client_address::client_ip;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    LoginFailed { username: String },
    CsrfRefused,
    RateLimited { limit: &'static str },
    AdminTokenRefused,
}

impl AuditEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LoginFailed { .. } => "login_failed",
            Self::CsrfRefused => "csrf_refused",
            Self::RateLimited { .. } => "rate_limited",
            Self::AdminTokenRefused => "admin_token_refused",
        }
    }

    /// Leaves the event on `response` for the middleware to log.
    pub fn mark(self, response: &mut HttpResponse) {
        response.extensions_mut().insert(self);
    }
}

/// The event a handler marked `response` with, if any. Nothing else is
/// looked at: this runs on every request, and almost none is an event.
pub fn marked<B>(response: &ServiceResponse<B>) -> Option<AuditEvent> {
    response
        .response()
        .extensions()
        .get::<AuditEvent>()
        .cloned()
}

/// Writes the audit line for `event`, with the client's address as seen
/// through the `trusted` proxies.
pub fn record<B>(event: AuditEvent, response: &ServiceResponse<B>, trusted: &[IpNet]) {
    let req = response.request();
    let client = client_ip(req, trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let (method, path) = (req.method(), req.path());
    let status = response.status().as_u16();
    match &event {
        AuditEvent::LoginFailed { username } => {
            tracing::warn!(target: "audit", event = event.kind(), %client, %method, %path, status, username = %username, "audit")
        }
        AuditEvent::RateLimited { limit } => {
            tracing::warn!(target: "audit", event = event.kind(), %client, %method, %path, status, limit, "audit")
        }
        _ => {
            tracing::warn!(target: "audit", event = event.kind(), %client, %method, %path, status, "audit")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::body::{BoxBody, MessageBody};
    use actix_web::dev::{ServiceRequest, ServiceResponse};
    use actix_web::middleware::{from_fn, Next};
    use actix_web::{test, web, App, Error, HttpResponse};

    use super::{marked, record, AuditEvent};

    /// The audit as a middleware of its own (the app runs `record` from
    /// its request log), trusting no proxy.
    async fn audit_log(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, Error> {
        let response = next.call(req).await?.map_into_boxed_body();
        if let Some(event) = marked(&response) {
            record(event, &response, &[]);
        }
        Ok(response)
    }

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn marked_responses_are_logged_with_the_client_address_and_no_secret() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .route(
                    "/login",
                    web::post().to(|| async {
                        let mut response = HttpResponse::Unauthorized().finish();
                        AuditEvent::LoginFailed {
                            username: "mallory".into(),
                        }
                        .mark(&mut response);
                        response
                    }),
                )
                .route("/", web::get().to(HttpResponse::Ok))
                .wrap(from_fn(audit_log)),
        )
        .await;
        let request = |method: actix_web::http::Method, path: &str| {
            test::TestRequest::default()
                .method(method)
                .uri(path)
                .peer_addr("198.51.100.7:5000".parse().unwrap())
                .set_form([("password", "hunter2hunter2")])
                .to_request()
        };
        test::call_service(&app, request(actix_web::http::Method::POST, "/login")).await;
        test::call_service(&app, request(actix_web::http::Method::GET, "/")).await;
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "one line, for the marked response: {text}");
        for part in [
            "audit",
            "login_failed",
            "198.51.100.7",
            "mallory",
            "status=401",
        ] {
            assert!(lines[0].contains(part), "{part} in {text}");
        }
        assert!(!text.contains("hunter2"), "no password: {text}");
    }
}
