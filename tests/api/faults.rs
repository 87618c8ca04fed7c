//! Dependencies failing under a running app: the database stopped and
//! restarted, the feed cache stopped or frozen, the session store stopped.
//! The app answers with clear 503s where it must, keeps the feed up where it
//! can, and recovers by itself.

use std::time::Duration;

use secrecy::SecretString;

use crate::helpers::Site;
use crate::helpers::{spawn_app_with, spawn_with_settings, test_settings, TestApp, PASSWORD};
use crate::images;
use crate::scenario::{feed_source, FEED_SOURCE};
use crate::services::{MariaDb, Memcached, Redis};
use photoscale::configuration::{CacheBackend, SessionBackend};
use photoscale::startup::Application;

/// Polls `path` until it answers `status`, for up to 30 s.
async fn eventually_status(app: &TestApp, path: &str, status: u16) {
    for _ in 0..300 {
        if app.get(path).await.status().as_u16() == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {status}");
}

#[tokio::test]
async fn database_stopped_and_restarted_under_the_app() {
    let mut server = MariaDb::start();
    let url = server.create_database().await;
    let app = spawn_app_with(|s| {
        s.database.url = Some(SecretString::from(url));
        s.database.acquire_timeout = Duration::from_secs(2);
    })
    .await;
    app.sign_up("gus").await;
    let response = app
        .upload(images::jpeg(20, 20), "g.jpg", "image/jpeg")
        .await;
    assert_eq!(response.status().as_u16(), 303);

    server.stop();
    let response = app.get("/").await;
    assert_eq!(response.status().as_u16(), 503);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The database is not reachable right now"),
        "{page}"
    );
    // The health check runs in the background: it sees the loss within a second.
    let health = crate::health::unhealthy_within(&app, Duration::from_millis(1500)).await;
    assert_eq!(health["database"]["reachable"], false);

    server.restart();
    eventually_status(&app, "/healthz", 200).await;
    assert_eq!(app.feed_ids().await.len(), 1, "nothing was lost");
    assert!(app
        .get_html("/")
        .await
        .contains("Logged in as <strong>gus</strong>"));
}

#[tokio::test]
async fn a_hung_database_fails_the_health_check_within_a_second() {
    let server = MariaDb::start();
    let url = server.create_database().await;
    let app = spawn_app_with(|s| s.database.url = Some(SecretString::from(url))).await;
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);

    // Frozen, not gone: pings neither succeed nor fail. The check still
    // answers at once, and turns to 503 once it has no recent success.
    server.pause();
    let health = crate::health::unhealthy_within(&app, Duration::from_millis(1500)).await;
    assert_eq!(health["status"], "unavailable");
    server.resume();
    eventually_status(&app, "/healthz", 200).await;
}

/// A hung database costs a request `database.query_timeout`, not more: the
/// page is a 503 that says the database is slow, on every engine's path
/// (the feed, a photo, a login), and the app serves again once it answers.
#[tokio::test]
async fn a_hung_database_costs_a_request_the_query_timeout_and_no_more() {
    let server = MariaDb::start();
    let url = server.create_database().await;
    let app = spawn_app_with(|s| {
        s.database.url = Some(SecretString::from(url));
        s.database.query_timeout = Duration::from_millis(800);
    })
    .await;
    app.sign_up("hana").await;
    app.upload(images::jpeg(40, 30), "a.jpg", "image/jpeg")
        .await;
    let photo = app.feed_ids().await.remove(0);
    let image = format!("/photos/{photo}/image");
    assert_eq!(
        app.get(&image).await.status(),
        200,
        "now known to this instance"
    );
    app.logout().await;
    let token = app.csrf_token("/login").await;

    server.pause();
    let started = std::time::Instant::now();
    let feed = app.get("/").await;
    let waited = started.elapsed();
    assert_eq!(feed.status(), 503);
    assert!(waited < Duration::from_millis(1800), "waited {waited:?}");
    let page = feed.text().await.unwrap();
    assert!(page.contains("database is slow"), "{page}");

    // An unknown photo id needs the database; a login too.
    let started = std::time::Instant::now();
    let missing = app.get("/photos/AAAAAAAAAAAAAAAAAAAAAA/image").await;
    assert!(
        matches!(missing.status().as_u16(), 503 | 404),
        "{}",
        missing.status()
    );
    let login = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "hana"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status(), 503);
    assert!(started.elapsed() < Duration::from_millis(3600));
    // A photo already known is served without the database.
    assert_eq!(
        app.get(&format!("/photos/{photo}/image")).await.status(),
        200
    );

    server.resume();
    eventually_status(&app, "/", 200).await;
}

#[tokio::test]
async fn start_up_names_the_unreachable_database_host() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::services::free_port();
    let mut settings = test_settings(dir.path());
    settings.database.url = Some(SecretString::from(format!(
        "mysql://app:hunter2@127.0.0.1:{port}/photos"
    )));
    settings.database.connect_timeout = Duration::from_secs(1);
    let error = match Application::build(settings).await {
        Ok(_) => panic!("started without a database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(error.contains("MySQL/MariaDB"), "{error}");
    assert!(error.contains("Connection refused"), "the cause: {error}");
    assert!(
        !error.contains("hunter2"),
        "the password is never shown: {error}"
    );
}

#[tokio::test]
async fn a_missing_database_is_reported_without_waiting() {
    let url = crate::services::postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.database.url = Some(SecretString::from(format!("{url}_missing")));
    // Retrying cannot create a database; this must not wait the full minute.
    settings.database.connect_timeout = Duration::from_secs(60);
    let started = std::time::Instant::now();
    let error = match Application::build(settings).await {
        Ok(_) => panic!("started without its database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("does not exist"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(60), "not retried");
}

#[tokio::test]
async fn start_up_waits_for_a_database_that_is_still_starting() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::services::free_port();
    let mut settings = test_settings(dir.path());
    settings.database.url = Some(SecretString::from(format!(
        "mysql://root@127.0.0.1:{port}/mysql"
    )));
    settings.database.connect_timeout = Duration::from_secs(60);
    let app = tokio::spawn(spawn_with_settings(settings));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!app.is_finished(), "still waiting for the database");
    let _server = tokio::task::spawn_blocking(move || MariaDb::start_on(port))
        .await
        .unwrap();
    let app = app.await.unwrap();
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
}

async fn cached_app(memcached: &Memcached) -> TestApp {
    let app = spawn_app_with(|s| {
        s.cache.backend = CacheBackend::Memcached;
        s.cache.url = Some(SecretString::from(memcached.url()));
        s.cache.timeout = Duration::from_millis(200);
    })
    .await;
    app.sign_up("hana").await;
    let response = app
        .upload(images::jpeg(20, 20), "h.jpg", "image/jpeg")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(feed_source(&app).await.0, "db");
    assert_eq!(feed_source(&app).await.0, "cache");
    app
}

#[tokio::test]
async fn feed_is_served_from_the_database_while_the_cache_is_down() {
    let mut memcached = Memcached::start();
    let app = cached_app(&memcached).await;

    memcached.stop();
    for _ in 0..3 {
        let (source, ids, _) = feed_source(&app).await;
        assert_eq!((source.as_str(), ids.len()), ("db", 1));
    }

    memcached.restart();
    let _ = feed_source(&app).await; // fills the empty cache
    assert_eq!(
        feed_source(&app).await.0,
        "cache",
        "back to the cache by itself"
    );
}

#[tokio::test]
async fn a_frozen_cache_costs_at_most_its_timeout() {
    let memcached = Memcached::start();
    let app = cached_app(&memcached).await;

    memcached.pause();
    let response = app.get("/").await;
    assert_eq!(response.status().as_u16(), 200);
    let source = response.headers().get(FEED_SOURCE).cloned();
    assert_eq!(
        source.as_ref().map(|v| v.to_str().unwrap()),
        Some("db"),
        "{response:?}"
    );
    memcached.resume();
}

async fn session_store_outage(app: &TestApp, stop: impl FnOnce(), restart: impl FnOnce()) {
    app.sign_up("ivan").await;
    let token = app.csrf_token("/upload").await;
    stop();

    // Anonymous browsing keeps working.
    let response = app.get("/").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(photoscale_feed_page(&response.text().await.unwrap()));
    let anonymous = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 200);

    // The login form needs no session (its token is in a cookie of its own)...
    assert_eq!(app.get("/login").await.status(), 200);
    // ...but what needs a session says clearly why it cannot work.
    for response in [
        app.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "ivan"),
                ("password", PASSWORD),
            ],
        )
        .await,
        app.upload_with(
            Some(&token),
            images::jpeg(10, 10),
            "i.jpg",
            "image/jpeg",
            "",
        )
        .await,
    ] {
        assert_eq!(response.status().as_u16(), 503);
        assert!(response.headers().contains_key("x-instance-id"));
        for header in [
            "x-content-type-options",
            "x-frame-options",
            "content-security-policy",
        ] {
            assert!(
                response.headers().contains_key(header),
                "the session store's 503 page carries {header}"
            );
        }
        let page = response.text().await.unwrap();
        assert!(page.contains("session store"), "{page}");
        assert!(!page.contains("panicked"), "{page}");
    }

    restart();
    eventually_status(app, "/login", 200).await;
    let response = app.login("ivan", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303, "logging in works again");
    assert_eq!(app.get("/upload").await.status().as_u16(), 200);
}

fn photoscale_feed_page(html: &str) -> bool {
    html.contains("Latest photos")
}

#[tokio::test]
async fn memcached_session_store_down_gives_503_and_recovers() {
    let memcached = std::sync::Mutex::new(Memcached::start());
    let url = memcached.lock().unwrap().url();
    let app = spawn_app_with(|s| {
        s.sessions.backend = SessionBackend::Memcached;
        s.sessions.url = Some(SecretString::from(url));
    })
    .await;
    session_store_outage(
        &app,
        || memcached.lock().unwrap().stop(),
        || memcached.lock().unwrap().restart(),
    )
    .await;
}

#[tokio::test]
async fn redis_session_store_down_gives_503_and_recovers() {
    let redis = std::sync::Mutex::new(Redis::start());
    let url = redis.lock().unwrap().url();
    let app = spawn_app_with(|s| {
        s.sessions.backend = SessionBackend::Redis;
        s.sessions.url = Some(SecretString::from(url));
    })
    .await;
    session_store_outage(
        &app,
        || redis.lock().unwrap().stop(),
        || redis.lock().unwrap().restart(),
    )
    .await;
}
