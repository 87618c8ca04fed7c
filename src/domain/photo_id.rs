//! The server-made public id of a photo: 32 lowercase hex digits (a random
//! UUID). Client-supplied names never become paths; only these do.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoId(String);

impl PhotoId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Accepts only the exact shape `generate` makes, so a path segment such as
    /// `../x` can never reach storage.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_others_do_not() {
        let id = PhotoId::generate();
        assert_eq!(PhotoId::parse(id.as_str()), Some(id));
        for bad in ["", "../../etc/passwd", &"A".repeat(32), &"a".repeat(31)] {
            assert_eq!(PhotoId::parse(bad), None, "{bad}");
        }
    }
}
