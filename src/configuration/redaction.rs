//! The effective configuration printed with its secrets hidden: database
//! and server URLs' passwords, the session key, the admin token, S3 keys.

use secrecy::ExposeSecret;

use super::Settings;

impl Settings {
    /// The effective configuration as TOML, with secrets replaced by a marker.
    pub fn to_redacted_toml(&self) -> String {
        let mut value = toml::Value::try_from(self).expect("settings always serialize");
        let set = |table: &mut toml::Value, section: &str, key: &str, text: String| {
            if let Some(t) = table.get_mut(section).and_then(|s| s.as_table_mut()) {
                t.insert(key.into(), toml::Value::String(text));
            }
        };
        let url = redact_url_password(self.database_url().expose_secret());
        set(&mut value, "database", "url", url);
        let key = match self.sessions.key {
            Some(_) => "[redacted]".to_owned(),
            None => format!(
                "[generated, kept in {}]",
                self.data_dir.join("session.key").display()
            ),
        };
        set(&mut value, "sessions", "key", key);
        if let Some(url) = &self.sessions.url {
            set(
                &mut value,
                "sessions",
                "url",
                redact_url_password(url.expose_secret()),
            );
        }
        if let Some(url) = &self.cache.url {
            set(
                &mut value,
                "cache",
                "url",
                redact_url_password(url.expose_secret()),
            );
        }
        if self.admin.token.is_some() {
            set(&mut value, "admin", "token", "[redacted]".to_owned());
        }
        if self.storage.s3.secret_access_key.is_some() {
            if let Some(s3) = value.get_mut("storage") {
                set(s3, "s3", "secret_access_key", "[redacted]".to_owned());
            }
        }
        toml::to_string_pretty(&value).expect("toml values always print")
    }
}

/// `mysql://user:secret@host/db` becomes `mysql://user:[redacted]@host/db`;
/// a password in the query string (`?password=...`, `?auth=...`) is hidden
/// too. Parsed with a real URL parser, so a password holding `@` or `:`
/// cannot leak its tail; a URL that does not parse is hidden whole.
pub fn redact_url_password(raw: &str) -> String {
    const HIDDEN: &str = "[redacted]";
    let Ok(mut url) = url::Url::parse(raw) else {
        return format!("{HIDDEN} (not a valid URL)");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some(HIDDEN));
    }
    if url.query().is_some() {
        let secret_key = |key: &str| {
            let key = key.to_ascii_lowercase();
            [
                "password", "passwd", "pwd", "pass", "secret", "token", "auth", "key",
            ]
            .iter()
            .any(|s| key.contains(s))
        };
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_key(&k) {
                    HIDDEN.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // The URL parser percent-encodes the brackets; show them as written.
    url.to_string().replace("%5Bredacted%5D", HIDDEN)
}
