//! Request middleware, outermost first: `request_log` (instance header, one log
//! line), security headers, `session_failures` (a failing session store becomes
//! a 503 page), the session middleware itself, then `error_pages`.

pub mod error_pages;
pub mod request_log;
pub mod security_headers;
pub mod session_failures;
