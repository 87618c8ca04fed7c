// `figment::Jail` closures must return figment's own (large) error type.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use figment::providers::Env;
use secrecy::{ExposeSecret, SecretString};

use super::*;

fn load_toml(toml: &str) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photoscale.toml");
    std::fs::write(&path, toml).unwrap();
    let sources = ConfigSources {
        file: Some(path),
        overrides: CliOverrides::default(),
    };
    Settings::load_with_env(&sources, Env::prefixed("PHOTOSCALE_TEST_UNUSED_"))
}

#[test]
fn defaults_are_the_embedded_level_zero() {
    let s = load_toml("").unwrap();
    assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.feed.size, 10);
    assert_eq!(s.uploads.max_bytes, 10 * 1024 * 1024);
    assert_eq!(s.sessions.backend, SessionBackend::Cookie);
    assert!(s.database_url().expose_secret().starts_with("sqlite://"));
}

#[test]
fn the_orphan_grace_must_cover_a_slow_insert_and_its_check() {
    let toml = "[database]\nquery_timeout = \"5s\"\n[storage]\norphan_grace = \"8s\"\n";
    let err = load_toml(toml).unwrap_err().to_string();
    assert!(err.contains("storage.orphan_grace"), "{err}");
    assert!(err.contains("twice database.query_timeout (5s)"), "{err}");
    let toml = "[database]\nquery_timeout = \"5s\"\n[storage]\norphan_grace = \"10s\"\n";
    assert_eq!(
        load_toml(toml).unwrap().storage.orphan_grace,
        Duration::from_secs(10)
    );
}

#[test]
fn unknown_key_is_named_with_a_fix() {
    let err = load_toml("[feed]\nsise = 3\n").unwrap_err().to_string();
    assert!(err.contains("unknown key `feed.sise`"), "{err}");
    assert!(err.contains("size"), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let err = load_toml("[feed]\nsize = \"many\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("feed.size"), "{err}");
    assert!(err.contains("fix:"), "{err}");
}

#[test]
fn out_of_range_value_names_the_key() {
    let err = load_toml("[feed]\nsize = 0\n").unwrap_err().to_string();
    assert!(err.contains("`feed.size`"), "{err}");
}

#[test]
fn bad_limits_name_the_key_and_the_fix() {
    for (toml, key) in [
        (
            "[limits]\nsignups_per_address = 0\n",
            "limits.signups_per_address",
        ),
        ("[limits]\nfirst_wait = \"0s\"\n", "limits.first_wait"),
        (
            "[limits]\nfirst_wait = \"1h\"\nmax_wait = \"1m\"\n",
            "limits.max_wait",
        ),
        ("[limits]\nfirst_wait = \"soon\"\n", "limits.first_wait"),
    ] {
        let err = load_toml(toml).unwrap_err().to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
    let relaxed = load_toml("[limits]\nsignups_per_address = 1000000\n").unwrap();
    assert_eq!(relaxed.limits.signups_per_address, 1_000_000);
}

#[test]
fn missing_config_file_is_an_error() {
    let sources = ConfigSources {
        file: Some("/nonexistent/photoscale.toml".into()),
        ..Default::default()
    };
    let err = Settings::load(&sources).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/photoscale.toml"), "{err}");
}

#[test]
fn environment_beats_file_and_flags_beat_environment() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("photoscale.toml", "latency = \"1s\"\n[feed]\nsize = 3\n")?;
        jail.set_env("PHOTOSCALE_FEED__SIZE", "7");
        jail.set_env("PHOTOSCALE_LATENCY", "2s");
        let sources = ConfigSources {
            file: None,
            overrides: CliOverrides {
                latency: Some("3s".into()),
                ..Default::default()
            },
        };
        let s = Settings::load(&sources).map_err(|e| e.to_string())?;
        assert_eq!(s.feed.size, 7);
        assert_eq!(s.latency, Duration::from_secs(3));
        Ok(())
    });
}

#[test]
fn a_file_in_a_parent_directory_is_not_read_but_named() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("photoscale.toml", "[feed]\nsize = 3\n")?;
        std::fs::create_dir("sub").map_err(|e| e.to_string())?;
        jail.change_dir("sub")?;
        let s = Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
        assert_eq!(s.feed.size, 10, "the parent's file is not applied");
        let ignored = ignored_parent_config(&ConfigSources::default());
        assert_eq!(
            ignored.map(|p| p.canonicalize().unwrap()),
            Some(
                jail.directory()
                    .join("photoscale.toml")
                    .canonicalize()
                    .unwrap()
            )
        );
        jail.create_file("photoscale.toml", "[feed]\nsize = 4\n")?;
        let s = Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
        assert_eq!(s.feed.size, 4, "the current directory's file is");
        assert_eq!(ignored_parent_config(&ConfigSources::default()), None);
        Ok(())
    });
}

#[test]
fn unknown_environment_variable_is_named() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("PHOTOSCALE_FEED__SIZ", "7");
        let err = Settings::load(&ConfigSources::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("feed.siz"), "{err}");
        Ok(())
    });
}

#[test]
fn command_line_variables_are_not_taken_for_keys() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("PHOTOSCALE_STATE_DIR", "/tmp/stack");
        jail.set_env("PHOTOSCALE_PROGRAM_PATH", "/opt/bin");
        jail.set_env("PHOTOSCALE_CONFIG", "photoscale.toml");
        jail.create_file("photoscale.toml", "")?;
        Settings::load(&ConfigSources::default()).map_err(|e| e.to_string())?;
        Ok(())
    });
}

#[test]
fn url_passwords_are_redacted_whatever_they_hold() {
    for (url, secret) in [
        ("mysql://app:hunter2@db:3306/p", "hunter2"),
        ("mysql://app:p%40ss@word@db:3306/p", "word"),
        ("postgres://app:a:b@c@db/p", "a:b"),
        ("redis://:s3cret@cache:6379/0", "s3cret"),
        ("postgres://db/p?user=app&password=qwerty", "qwerty"),
        ("memcache://cache:11211?auth=tok3n", "tok3n"),
    ] {
        let shown = redact_url_password(url);
        assert!(!shown.contains(secret), "{url} shows as {shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    assert_eq!(
        redact_url_password("mysql://app:hunter2@db:3306/p"),
        "mysql://app:[redacted]@db:3306/p"
    );
    assert_eq!(
        redact_url_password("sqlite://data/p.db"),
        "sqlite://data/p.db"
    );
    assert!(!redact_url_password("not a url hunter2").contains("hunter2"));
}

#[test]
fn redacted_output_hides_secrets() {
    let mut s = Settings::default();
    s.sessions.key = Some(SecretString::from("k".repeat(40)));
    s.database.url = Some(SecretString::from("mysql://app:hunter2@db/photos"));
    let shown = s.to_redacted_toml();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains(&"k".repeat(40)), "{shown}");
    assert!(
        shown.contains("mysql://app:[redacted]@db/photos"),
        "{shown}"
    );
}

/// The key and the fix named in the error for `toml`.
fn rejection(toml: &str) -> String {
    load_toml(toml).unwrap_err().to_string()
}

#[test]
fn every_backend_is_chosen_by_name() {
    let s = load_toml(
        r#"
        [database]
        url = "postgres://app:pw@db:5432/photos"
        [storage]
        backend = "shared"
        path = "/mnt/photos"
        [sessions]
        backend = "redis"
        url = "redis://cache:6379/0"
        [cache]
        backend = "memcached"
        url = "memcache://cache:11211"
        ttl = "30s"
        [admin]
        token = "0123456789abcdef0123"
        "#,
    )
    .unwrap();
    assert_eq!(s.storage.backend, StorageBackend::Shared);
    assert_eq!(s.sessions.backend, SessionBackend::Redis);
    assert_eq!(s.cache.backend, CacheBackend::Memcached);
    assert_eq!(s.cache.ttl, Duration::from_secs(30));
}

#[test]
fn backends_without_their_settings_are_refused_with_a_fix() {
    let cases = [
        ("[storage]\nbackend = \"shared\"", "storage.path"),
        ("[sessions]\nbackend = \"memcached\"", "sessions.url"),
        (
            "[sessions]\nbackend = \"redis\"\nurl = \"memcache://h:1\"",
            "sessions.url",
        ),
        ("[cache]\nbackend = \"redis\"", "cache.url"),
        ("[database]\nurl = \"oracle://db/x\"", "database.url"),
        ("[admin]\ntoken = \"short\"", "admin.token"),
        (
            "[storage]\ncdn_base_url = \"cdn.example.com\"",
            "storage.cdn_base_url",
        ),
        ("[sessions]\nbackend = \"postgres\"", "sessions.backend"),
        ("[cache]\nbackend = \"disk\"", "cache.backend"),
    ];
    for (toml, key) in cases {
        let message = rejection(toml);
        assert!(message.contains(key), "{toml}: {message}");
        assert!(
            message.contains("fix") || message.contains("expected"),
            "{toml}: {message}"
        );
    }
}

#[test]
fn s3_needs_a_bucket() {
    let message = rejection("[storage]\nbackend = \"s3\"");
    assert!(message.contains("storage.s3.bucket"), "{message}");
}

#[test]
fn server_urls_and_the_admin_token_are_redacted() {
    let mut s = Settings::default();
    s.sessions.url = Some(SecretString::from("redis://:sessionpw@cache:6379/0"));
    s.cache.url = Some(SecretString::from("redis://user:cachepw@cache:6379/1"));
    s.admin.token = Some(SecretString::from("admintoken-0123456789"));
    let shown = s.to_redacted_toml();
    for secret in ["sessionpw", "cachepw", "admintoken-0123456789"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("redis://user:[redacted]@cache:6379/1"),
        "{shown}"
    );
}
