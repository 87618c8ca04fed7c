//! Parsers of flag values shared by the subcommands: each says what was
//! wrong and what a right value looks like.

pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; use a duration such as 250ms, 3s or 0s"))
}

/// A path on the site under test: "/healthz", "/photos/ID/thumb".
pub fn parse_request_path(text: &str) -> Result<String, String> {
    let ok =
        text.starts_with('/') && !text.starts_with("//") && !text.contains(char::is_whitespace);
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a path on the site; use one that starts with a single /, e.g. /healthz"
        ))
    }
}

pub fn parse_http_url(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(text.to_owned())
        }
        _ => Err(
            "not an http(s) URL; use e.g. https://example.com/photoscale or http://127.0.0.1:5000"
                .into(),
        ),
    }
}

pub fn parse_sha256(text: &str) -> Result<String, String> {
    if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("a SHA-256 is 64 hexadecimal digits, as `sha256sum` prints".into())
    }
}

pub fn parse_ami(text: &str) -> Result<String, String> {
    let ok = text
        .strip_prefix("ami-")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("an AMI id looks like ami-0abcdef1234567890".into())
    }
}

pub fn parse_email(text: &str) -> Result<String, String> {
    match text.split_once('@') {
        Some((user, host))
            if !user.is_empty() && host.contains('.') && !text.contains(char::is_whitespace) =>
        {
            Ok(text.to_owned())
        }
        _ => Err("not an e-mail address; use e.g. ops@example.com".into()),
    }
}

pub fn parse_nfs(text: &str) -> Result<String, String> {
    match text.split_once(":/") {
        Some((host, _)) if !host.is_empty() && !text.contains(char::is_whitespace) => {
            Ok(text.to_owned())
        }
        _ => Err("an NFS export is HOST:/PATH, e.g. fs-0123.efs.eu-west-1.amazonaws.com:/".into()),
    }
}
