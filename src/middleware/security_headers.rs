//! The headers every response carries, error pages included: no MIME
//! sniffing, no framing, a same-origin referrer, the content security policy,
//! and HSTS when `server.hsts` is on (only behind HTTPS: a browser that sees
//! it over HTTPS refuses plain HTTP to the host for a year).
//!
//! `request_log` applies them to every response. A middleware that fails
//! (the session store could not save) answers with an error rather than a
//! response, which no outer middleware can touch; so `session_failures`
//! applies them to its page itself, from the same app data.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

#[derive(Debug, Clone)]
pub struct SecurityHeaders(Vec<(HeaderName, HeaderValue)>);

impl SecurityHeaders {
    pub fn new(csp: &str, hsts: bool) -> Self {
        let mut list = vec![
            ("x-content-type-options", "nosniff".to_owned()),
            ("x-frame-options", "DENY".to_owned()),
            ("referrer-policy", "same-origin".to_owned()),
            ("content-security-policy", csp.to_owned()),
        ];
        if hsts {
            list.push((
                "strict-transport-security",
                "max-age=31536000; includeSubDomains".to_owned(),
            ));
        }
        Self(
            list.into_iter()
                .filter_map(|(name, value)| {
                    Some((
                        HeaderName::from_static(name),
                        HeaderValue::from_str(&value).ok()?,
                    ))
                })
                .collect(),
        )
    }

    /// Adds each header the response does not set itself.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.0 {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
}
