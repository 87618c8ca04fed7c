//! Request middleware, outermost first: `request_log` (instance header, one log
//! line, security headers, the audit line), `session_failures` (a failing session store becomes
//! a 503 page), the session middleware itself, `session_validity` (expired
//! and revoked sessions end), then `error_pages`.

pub mod error_pages;
pub mod request_log;
pub mod security_headers;
pub mod session_failures;
pub mod session_validity;
