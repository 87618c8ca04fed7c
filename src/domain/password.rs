//! Password rules and argon2id hashing.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU): the app runs
//! it through `PasswordHashing`, off the async workers, a few at a time.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

pub const MIN_LEN: usize = 8;
/// Bounded so nobody can make the server hash megabytes.
pub const MAX_LEN: usize = 128;

#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_LEN {
            return Err(format!("Passwords are at least {MIN_LEN} characters long."));
        }
        if chars > MAX_LEN {
            return Err(format!("Passwords are at most {MAX_LEN} characters long."));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// For login: any length is checked against the hash, but overlong input is
    /// refused before hashing.
    pub fn for_login(raw: &str) -> Option<Self> {
        (raw.chars().count() <= MAX_LEN).then(|| Self(SecretString::from(raw.to_owned())))
    }
}

/// An argon2id PHC string (`$argon2id$v=19$m=...`).
pub fn hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.0.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// True when `password` matches `phc`. A malformed hash counts as no match.
pub fn verify(password: &Password, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.0.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let pw = Password::parse("correct horse").unwrap();
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify(&pw, &phc));
        assert!(!verify(&Password::parse("wrong horse").unwrap(), &phc));
    }

    #[test]
    fn length_rules() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::for_login(&"x".repeat(129)).is_none());
    }
}
