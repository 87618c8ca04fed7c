//! Password rules and argon2id hashing.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU): the app runs
//! it through `PasswordHashing`, off the async workers, a few at a time.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

/// OWASP ASVS 2.1.1: at least 12 characters. Applies at sign-up (and to a
/// new password); accounts made under the old rule of 8 still log in.
pub const MIN_LEN: usize = 12;
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
        if is_common(raw) {
            return Err(
                "That password is on a list of common passwords that attackers try first; choose another."
                    .to_owned(),
            );
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// For login: any length is checked against the hash, but overlong input is
    /// refused before hashing.
    pub fn for_login(raw: &str) -> Option<Self> {
        (raw.chars().count() <= MAX_LEN).then(|| Self(SecretString::from(raw.to_owned())))
    }
}

/// True when `raw` (any case, surrounding spaces ignored) is on the list.
fn is_common(raw: &str) -> bool {
    static COMMON: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect()
    });
    common.contains(raw.trim().to_lowercase().as_str())
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
        let pw = Password::parse("correct horse staple").unwrap();
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify(&pw, &phc));
        assert!(!verify(
            &Password::parse("wrong horse staple").unwrap(),
            &phc
        ));
    }

    #[test]
    fn length_rules() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::for_login(&"x".repeat(129)).is_none());
        assert!(Password::parse("elevenchars").is_err(), "11 characters");
        assert!(Password::parse("twelve chars").is_ok(), "12 characters");
        assert!(
            Password::for_login("short").is_some(),
            "old accounts log in"
        );
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for common in ["passwordpassword", "Q1W2E3R4T5Y6", " qwerty123456 "] {
            let error = Password::parse(common).unwrap_err();
            assert!(error.contains("common passwords"), "{common}: {error}");
        }
        assert!(Password::parse("correct horse battery").is_ok());
    }
}
