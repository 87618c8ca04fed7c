//! Where a login may send the browser afterwards (`?next=/upload`): a path
//! on this site and nothing else.
//!
//! Browsers are lenient with a `Location`: they drop tabs and newlines
//! (`/\t/evil.example` becomes `//evil.example`, another host), read `\` as
//! `/`, and resolve `/./`, `/../` and percent-free paths before they go. So
//! the target is refused when it holds anything a browser would rewrite, and
//! what is sent back is the URL parser's own serialization, checked again.

use url::Url;

/// Longer targets are refused: no page of ours has such a path.
const MAX_LENGTH: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget(String);

impl RedirectTarget {
    /// The target as a same-origin path (with its query), or None.
    pub fn parse(raw: &str) -> Option<Self> {
        let plain = raw.len() <= MAX_LENGTH
            && raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.contains('\\')
            && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
        if !plain {
            return None;
        }
        let base = Url::parse("http://photoscale.invalid/").expect("a valid base URL");
        let url = base.join(raw).ok()?;
        if url.origin() != base.origin() || url.username() != "" || url.password().is_some() {
            return None;
        }
        let mut target = url.path().to_owned();
        // "/.//evil" resolves to the path "//evil": as a Location of its own
        // that names a host, so it is refused after resolution too.
        if !target.starts_with('/') || target.starts_with("//") {
            return None;
        }
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        Some(Self(target))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::RedirectTarget;

    fn parsed(raw: &str) -> Option<String> {
        RedirectTarget::parse(raw).map(|t| t.as_str().to_owned())
    }

    #[test]
    fn local_paths_are_kept() {
        for (raw, expected) in [
            ("/", "/"),
            ("/upload", "/upload"),
            ("/photos/abc?page=2", "/photos/abc?page=2"),
            ("/a/../upload", "/upload"),
            ("/caf%C3%A9", "/caf%C3%A9"),
        ] {
            assert_eq!(parsed(raw).as_deref(), Some(expected), "{raw:?}");
        }
    }

    #[test]
    fn known_bypasses_are_refused() {
        for raw in [
            "",
            "upload",
            "//evil.example",
            "///evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            " /upload",
            "/.//evil.example",
            "/..//evil.example",
            "/%2e//evil.example",
            "/\u{3000}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{85}/evil.example",
        ] {
            assert_eq!(parsed(raw), None, "{raw:?} must be refused");
        }
        assert_eq!(parsed(&format!("/{}", "a".repeat(600))), None, "too long");
    }
}
