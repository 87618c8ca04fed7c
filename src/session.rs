//! What the app keeps in a session, behind typed methods.
//!
//! Besides the user, each session carries a random `sid` made by us. It works
//! the same on every session backend (a cookie store has no server-side id),
//! it is replaced at login, and its hash is the "session fingerprint" shown on
//! pages; the sid itself is never shown or logged.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};

use crate::csrf;
use crate::error::AppError;
use crate::state::AppState;

const USER_ID: &str = "user_id";
const USERNAME: &str = "username";
const SID: &str = "sid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
/// When the login happened (ms since the epoch): refused after `sessions.ttl`
/// whatever the browser keeps, on every backend (a copied cookie too).
const ISSUED: &str = "issued";
/// The user's session generation at login (see `session_validity`).
const GENERATION: &str = "gen";
/// When the generation was last compared with the database.
const CHECKED: &str = "gen_checked";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
}

/// The request's session, wrapped so handlers cannot misuse raw keys.
pub struct AppSession {
    session: Session,
    /// The session store failed lately, so an empty session may be a lost one.
    store_down: bool,
    /// For a visitor without a session: the form-token cookie is on it.
    req: HttpRequest,
}

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(AppSession::of(req)))
    }
}

impl AppSession {
    pub fn of(req: &HttpRequest) -> Self {
        let store_down = req
            .app_data::<actix_web::web::Data<AppState>>()
            .is_some_and(|state| state.session_health.is_down());
        AppSession {
            session: req.get_session(),
            store_down,
            req: req.clone(),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        // A value that no longer deserializes is treated as absent.
        self.session.get::<T>(key).ok().flatten()
    }

    fn set<T: serde::Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.session
            .insert(key, value)
            .map_err(|e| AppError::internal(format!("writing session: {e}")))
    }

    pub fn user(&self) -> Option<SessionUser> {
        Some(SessionUser {
            id: self.get(USER_ID)?,
            username: self.get(USERNAME)?,
        })
    }

    /// The logged-in user, or why there is none: not logged in (401), or the
    /// session could not be loaded because the store is down (503).
    pub fn require_user(&self) -> Result<SessionUser, AppError> {
        match self.user() {
            Some(user) => Ok(user),
            None if self.store_down => Err(AppError::SessionStoreDown),
            None => Err(AppError::LoginRequired),
        }
    }

    /// A short, non-reversible label of this session ("3f9a0c1d").
    pub fn fingerprint(&self) -> Option<String> {
        let sid: String = self.get(SID)?;
        Some(hex::encode(&Sha256::digest(sid.as_bytes())[..4]))
    }

    /// The current CSRF token, if this session has one.
    pub fn csrf_token(&self) -> Option<String> {
        self.get(CSRF)
    }

    /// Fails with 403 unless `submitted` is this session's token or, for a
    /// visitor without one, the signature of the form-token cookie (see
    /// `form_tokens`): showing a form creates no server-side session.
    pub fn verify_csrf(&self, submitted: Option<&str>) -> Result<(), AppError> {
        if let Some(expected) = self.csrf_token() {
            return match submitted {
                Some(got) if csrf::tokens_match(&expected, got) => Ok(()),
                _ => Err(AppError::CsrfRejected),
            };
        }
        let state = self.req.app_data::<actix_web::web::Data<AppState>>();
        if state.is_some_and(|s| s.form_tokens.verify(&self.req, submitted)) {
            return Ok(());
        }
        if self.store_down {
            // The token may be missing because the session could not load.
            return Err(AppError::SessionStoreDown);
        }
        Err(AppError::CsrfRejected)
    }

    /// Starts a fresh session for `user`: new session key, new sid, new CSRF
    /// token, so nothing from before login (session fixation) carries over.
    /// `generation` is the user's session generation now.
    pub fn log_in(&self, user: SessionUser, generation: i64) -> Result<(), AppError> {
        let flash: Option<String> = self.get(FLASH);
        // `clear` + `renew` rather than `purge`: a purged session ignores inserts.
        self.session.clear();
        self.session.renew();
        self.set(SID, csrf::new_token())?;
        self.set(CSRF, csrf::new_token())?;
        self.set(USER_ID, user.id)?;
        self.set(USERNAME, user.username)?;
        let now = crate::db::now_millis();
        self.set(ISSUED, now)?;
        self.set(GENERATION, generation)?;
        self.set(CHECKED, now)?;
        if let Some(flash) = flash {
            self.set(FLASH, flash)?;
        }
        Ok(())
    }

    pub fn log_out(&self) {
        self.session.purge();
    }

    /// When this session's login happened (ms), if it is a logged-in one.
    pub fn issued_at(&self) -> Option<i64> {
        self.get(ISSUED)
    }

    /// The generation the session was made under, and when it was last
    /// compared with the database.
    pub fn generation(&self) -> Option<(i64, i64)> {
        Some((self.get(GENERATION)?, self.get(CHECKED)?))
    }

    /// Records that the generation was found current at `now`.
    pub fn generation_checked(&self, now: i64) -> Result<(), AppError> {
        self.set(CHECKED, now)
    }

    /// A one-time message for the next page ("Photo uploaded.").
    pub fn set_flash(&self, message: &str) -> Result<(), AppError> {
        self.set(FLASH, message)
    }

    pub fn take_flash(&self) -> Option<String> {
        let message = self.get(FLASH);
        if message.is_some() {
            self.session.remove(FLASH);
        }
        message
    }
}
