//! Two instances behind one browser, as behind a load balancer: one shared
//! database, shared sessions and shared photo storage make them one site;
//! per-instance memory sessions reproduce the classic "logged out on the
//! other server" failure on purpose.

use secrecy::SecretString;

use crate::helpers::Site;
use crate::helpers::{spawn_app_with, TestApp};
use crate::images;
use crate::scenario::{fetch_photo, image_src_in};
use crate::services::{mariadb_database, postgres_database, Memcached, Redis};
use photoscale::configuration::{SessionBackend, Settings, StorageBackend};

const SHARED_KEY: &str = "0123456789abcdef0123456789abcdef-two-instances";

/// Instances `i-a` and `i-b` with the same settings, and one cookie jar.
async fn pair(configure: impl Fn(&mut Settings)) -> (TestApp, TestApp) {
    let a = spawn_app_with(|s| {
        configure(s);
        s.instance.id = Some("i-a".into());
        s.sessions.key = Some(SecretString::from(SHARED_KEY));
    })
    .await;
    let mut b = spawn_app_with(|s| {
        configure(s);
        s.instance.id = Some("i-b".into());
        s.sessions.key = Some(SecretString::from(SHARED_KEY));
    })
    .await;
    b.client = a.client.clone();
    (a, b)
}

async fn served_by(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    response.headers()["x-instance-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Log in on A, use the session on B; upload on A, see and open it on B.
async fn behave_as_one_site(a: &TestApp, b: &TestApp) {
    assert_eq!(served_by(a, "/").await, "i-a");
    assert_eq!(served_by(b, "/").await, "i-b");

    a.sign_up("dana").await;
    let on_b = b.get_html("/").await;
    assert!(
        on_b.contains("Logged in as <strong>dana</strong>"),
        "B honours A's login"
    );
    assert_eq!(b.get("/upload").await.status().as_u16(), 200);

    let photo = images::jpeg(80, 60);
    let response = a.upload(photo.clone(), "from-a.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 303);
    let ids = b.feed_ids().await;
    assert_eq!(ids.len(), 1, "B's feed shows the photo uploaded through A");
    let page = b.get_html(&format!("/photos/{}", ids[0])).await;
    let (_, bytes) = fetch_photo(b, &image_src_in(&page)).await;
    assert_eq!(bytes, photo, "B serves A's photo");

    // An upload through B (with B's form token) is visible on A too.
    let response = b
        .upload(images::png(10, 10), "from-b.png", "image/png")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(a.feed_ids().await.len(), 2);
}

#[tokio::test]
async fn mariadb_memcached_sessions_shared_directory() {
    let database = mariadb_database().await;
    let memcached = Memcached::start();
    let shared = tempfile::tempdir().unwrap();
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Memcached;
        s.sessions.url = Some(SecretString::from(memcached.url()));
        s.storage.backend = StorageBackend::Shared;
        s.storage.path = Some(shared.path().to_owned());
    })
    .await;
    behave_as_one_site(&a, &b).await;
}

#[tokio::test]
async fn postgres_redis_sessions_shared_directory() {
    let database = postgres_database().await;
    let redis = Redis::start();
    let shared = tempfile::tempdir().unwrap();
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Redis;
        s.sessions.url = Some(SecretString::from(redis.url()));
        s.storage.backend = StorageBackend::Shared;
        s.storage.path = Some(shared.path().to_owned());
    })
    .await;
    behave_as_one_site(&a, &b).await;
}

#[tokio::test]
async fn mariadb_redis_sessions_s3() {
    let database = mariadb_database().await;
    let redis = Redis::start();
    let bucket = crate::services::s3_bucket().await;
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Redis;
        s.sessions.url = Some(SecretString::from(redis.url()));
        bucket.configure(s);
    })
    .await;
    behave_as_one_site(&a, &b).await;
}

#[tokio::test]
async fn cookie_sessions_with_one_key_are_shared() {
    let database = mariadb_database().await;
    let shared = tempfile::tempdir().unwrap();
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Cookie;
        s.storage.backend = StorageBackend::Shared;
        s.storage.path = Some(shared.path().to_owned());
    })
    .await;
    behave_as_one_site(&a, &b).await;
}

#[tokio::test]
async fn memory_sessions_log_you_out_on_the_other_instance() {
    let database = mariadb_database().await;
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Memory;
    })
    .await;
    a.sign_up("erin").await;
    assert!(a
        .get_html("/")
        .await
        .contains("Logged in as <strong>erin</strong>"));
    let on_b = b.get_html("/").await;
    assert!(
        !on_b.contains("Logged in as"),
        "B does not know A's session"
    );
    assert_eq!(
        b.get("/upload").await.status().as_u16(),
        303,
        "B sends erin to log in"
    );
    // B's new session replaced the cookie, so back on A erin is logged out
    // too: behind a load balancer this is the endless "please log in" loop.
    assert!(!a.get_html("/").await.contains("Logged in as"));
}

#[tokio::test]
async fn local_storage_loses_photos_on_the_other_instance() {
    let database = mariadb_database().await;
    let (a, b) = pair(|s| {
        s.database.url = Some(SecretString::from(database.clone()));
        s.sessions.backend = SessionBackend::Cookie;
    })
    .await;
    a.sign_up("finn").await;
    let response = a.upload(images::jpeg(30, 30), "x.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 303);
    let ids = b.feed_ids().await;
    assert_eq!(ids.len(), 1, "the row is in the shared database");
    let response = b.get(&format!("/photos/{}/image", ids[0])).await;
    assert_eq!(
        response.status().as_u16(),
        404,
        "but the file is on A's disk only"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("not in the storage of instance i-b"),
        "{page}"
    );
    assert_eq!(
        a.get(&format!("/photos/{}/image", ids[0]))
            .await
            .status()
            .as_u16(),
        200
    );
}
