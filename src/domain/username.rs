//! A username that has passed validation.

use std::fmt;

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 32;

/// 3 to 32 characters: ASCII letters, digits, `_`, `-`, `.`; starts with a
/// letter or digit. ASCII only, so look-alike Unicode names cannot impersonate
/// and no bidirectional or zero-width character can get in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.len() < MIN_LEN || name.len() > MAX_LEN {
            return Err(format!(
                "Usernames are {MIN_LEN} to {MAX_LEN} characters long."
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if !name.chars().all(allowed) {
            return Err(
                "Usernames may contain only letters a-z, digits, '_', '-' and '.'.".to_owned(),
            );
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("Usernames start with a letter or a digit.".to_owned());
        }
        Ok(Self(name.to_owned()))
    }

    /// The form used for uniqueness: `Alice` and `alice` are the same account.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["bob", "alice_99", "j.doe", "x-y-z", "A1B2C3"] {
            assert!(Username::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_bad_names_with_a_reason() {
        let cases = [
            ("ab", "3 to 32"),
            (&"a".repeat(33), "3 to 32"),
            ("bob smith", "only letters"),
            ("<script>", "only letters"),
            ("zoë", "only letters"),
            ("_bob", "start with"),
            ("../etc", "only letters"),
            ("bob\u{202E}", "only letters"),
            ("b\u{200B}ob", "only letters"),
        ];
        for (name, reason) in cases {
            let err = Username::parse(name).unwrap_err();
            assert!(err.contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn uniqueness_key_ignores_case() {
        assert_eq!(
            Username::parse("Alice").unwrap().key(),
            Username::parse("alice").unwrap().key()
        );
    }
}
