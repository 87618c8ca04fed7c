//! Request middleware, outermost first: `request_log` (instance header, one log
//! line, errors turned into responses), then `error_pages`.

pub mod error_pages;
pub mod request_log;
