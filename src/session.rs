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

const USER_ID: &str = "user_id";
const USERNAME: &str = "username";
const SID: &str = "sid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
}

/// The request's session, wrapped so handlers cannot misuse raw keys.
pub struct AppSession(Session);

impl FromRequest for AppSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(AppSession(req.get_session())))
    }
}

impl AppSession {
    pub fn of(req: &HttpRequest) -> Self {
        AppSession(req.get_session())
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        // A value that no longer deserializes is treated as absent.
        self.0.get::<T>(key).ok().flatten()
    }

    fn set<T: serde::Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0
            .insert(key, value)
            .map_err(|e| AppError::internal(format!("writing session: {e}")))
    }

    pub fn user(&self) -> Option<SessionUser> {
        Some(SessionUser {
            id: self.get(USER_ID)?,
            username: self.get(USERNAME)?,
        })
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

    /// The CSRF token for a form, starting a session when there is none.
    pub fn ensure_csrf_token(&self) -> Result<String, AppError> {
        if self.get::<String>(SID).is_none() {
            self.set(SID, csrf::new_token())?;
        }
        match self.csrf_token() {
            Some(token) => Ok(token),
            None => {
                let token = csrf::new_token();
                self.set(CSRF, &token)?;
                Ok(token)
            }
        }
    }

    /// Fails with 403 unless `submitted` is this session's token.
    pub fn verify_csrf(&self, submitted: Option<&str>) -> Result<(), AppError> {
        match (self.csrf_token(), submitted) {
            (Some(expected), Some(got)) if csrf::tokens_match(&expected, got) => Ok(()),
            _ => Err(AppError::CsrfRejected),
        }
    }

    /// Starts a fresh session for `user`: new session key, new sid, new CSRF
    /// token, so nothing from before login (session fixation) carries over.
    pub fn log_in(&self, user: SessionUser) -> Result<(), AppError> {
        let flash: Option<String> = self.get(FLASH);
        // `clear` + `renew` rather than `purge`: a purged session ignores inserts.
        self.0.clear();
        self.0.renew();
        self.set(SID, csrf::new_token())?;
        self.set(CSRF, csrf::new_token())?;
        self.set(USER_ID, user.id)?;
        self.set(USERNAME, user.username)?;
        if let Some(flash) = flash {
            self.set(FLASH, flash)?;
        }
        Ok(())
    }

    pub fn log_out(&self) {
        self.0.purge();
    }

    /// A one-time message for the next page ("Photo uploaded.").
    pub fn set_flash(&self, message: &str) -> Result<(), AppError> {
        self.set(FLASH, message)
    }

    pub fn take_flash(&self) -> Option<String> {
        let message = self.get(FLASH);
        if message.is_some() {
            self.0.remove(FLASH);
        }
        message
    }
}
