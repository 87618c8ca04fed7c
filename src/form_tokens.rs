//! CSRF tokens for visitors without a session (the login and sign-up
//! forms): a signed double-submit token, so that showing a form creates no
//! server-side session.
//!
//! The browser gets a random nonce in an HttpOnly cookie; the form carries
//! HMAC(key, nonce), the key derived from the session key. A cross-site page
//! can neither read the cookie nor sign a nonce of its own, so it cannot
//! produce a matching pair. After login the session's own synchronizer token
//! takes over (`AppSession::verify_csrf`).

use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "photoscale_form";

pub struct FormTokens {
    key: [u8; 32],
    secure_cookie: bool,
}

impl FormTokens {
    /// Keys derived from the session key, so every instance that shares
    /// `sessions.key` accepts the others' tokens.
    pub fn new(session_key: &Key, secure_cookie: bool) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"photoscale form tokens v1");
        digest.update(session_key.master());
        Self {
            key: digest.finalize().into(),
            secure_cookie,
        }
    }

    fn sign(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The token for this visitor's form, and the cookie to set when the
    /// visitor has no nonce yet.
    pub fn token(&self, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
        if let Some(nonce) = nonce_of(req) {
            return (self.sign(&nonce), None);
        }
        let nonce = crate::csrf::new_token();
        let cookie = Cookie::build(COOKIE, nonce.clone())
            .path("/")
            .http_only(true)
            .secure(self.secure_cookie)
            .same_site(SameSite::Lax)
            .finish();
        (self.sign(&nonce), Some(cookie))
    }

    /// Whether `submitted` is the signature of this visitor's nonce.
    pub fn verify(&self, req: &HttpRequest, submitted: Option<&str>) -> bool {
        match (nonce_of(req), submitted) {
            (Some(nonce), Some(submitted)) => {
                crate::csrf::tokens_match(&self.sign(&nonce), submitted)
            }
            _ => false,
        }
    }
}

fn nonce_of(req: &HttpRequest) -> Option<String> {
    let nonce = req.cookie(COOKIE)?.value().to_owned();
    // Our nonces are 43 URL-safe characters; anything else is not ours.
    (nonce.len() == 43).then_some(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_token_matches_only_its_own_nonce_and_key() {
        let key = Key::generate();
        let tokens = FormTokens::new(&key, true);
        let (token, cookie) = tokens.token(&TestRequest::default().to_http_request());
        let cookie = cookie.expect("a first visit gets a nonce");
        assert!(cookie.http_only().unwrap_or(false));
        let with_cookie = TestRequest::default()
            .cookie(cookie.clone())
            .to_http_request();
        assert!(tokens.verify(&with_cookie, Some(&token)));
        assert_eq!(
            tokens.token(&with_cookie),
            (token.clone(), None),
            "same nonce, same token"
        );

        let without = TestRequest::default().to_http_request();
        assert!(!tokens.verify(&without, Some(&token)), "no cookie");
        assert!(!tokens.verify(&with_cookie, Some("forged")));
        assert!(!tokens.verify(&with_cookie, None));
        let other_key = FormTokens::new(&Key::generate(), true);
        assert!(
            !other_key.verify(&with_cookie, Some(&token)),
            "another site's key"
        );
        let planted = Cookie::new(COOKIE, "a".repeat(43));
        let planted = TestRequest::default().cookie(planted).to_http_request();
        assert!(!tokens.verify(&planted, Some(&token)), "a planted nonce");
    }
}
