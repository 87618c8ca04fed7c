//! The same journey (see `scenario`) against every backend of every port:
//! databases, photo storage, sessions and the feed cache, each on a real
//! server started for the test.

use secrecy::SecretString;

use crate::helpers::spawn_app_with;
use crate::helpers::Site;
use crate::scenario;
use crate::services::{mariadb_database, postgres_database, Memcached, Redis};
use photoscale::configuration::{CacheBackend, SessionBackend, StorageBackend};

fn secret(text: String) -> Option<SecretString> {
    Some(SecretString::from(text))
}

#[tokio::test]
async fn sqlite_local_disk_cookie_sessions_no_cache() {
    let app = spawn_app_with(|_| {}).await;
    scenario::run(&app, false).await;
    assert_eq!(app.state.db.engine(), photoscale::db::Engine::Sqlite);
    assert_eq!(
        app.stored_files().len(),
        4,
        "two originals and two thumbnails"
    );
}

#[tokio::test]
async fn mariadb_database_works_end_to_end() {
    let url = mariadb_database().await;
    let app = spawn_app_with(|s| s.database.url = secret(url)).await;
    assert_eq!(app.state.db.engine(), photoscale::db::Engine::MySql);
    scenario::run(&app, false).await;
}

#[tokio::test]
async fn postgres_database_works_end_to_end() {
    let url = postgres_database().await;
    let app = spawn_app_with(|s| s.database.url = secret(url)).await;
    assert_eq!(app.state.db.engine(), photoscale::db::Engine::Postgres);
    scenario::run(&app, false).await;
}

#[tokio::test]
async fn shared_directory_storage() {
    let shared = tempfile::tempdir().unwrap();
    let path = shared.path().to_owned();
    let app = spawn_app_with(|s| {
        s.storage.backend = StorageBackend::Shared;
        s.storage.path = Some(path);
    })
    .await;
    scenario::run(&app, false).await;
    let files = std::fs::read_dir(shared.path().join("originals"))
        .unwrap()
        .count();
    assert_eq!(files, 2, "originals land in the shared directory");
    assert!(
        app.stored_files().is_empty(),
        "nothing in the instance's own directory"
    );
}

#[tokio::test]
async fn memory_sessions() {
    let app = spawn_app_with(|s| s.sessions.backend = SessionBackend::Memory).await;
    scenario::run(&app, false).await;
}

#[tokio::test]
async fn memcached_sessions() {
    let memcached = Memcached::start();
    let app = spawn_app_with(|s| {
        s.sessions.backend = SessionBackend::Memcached;
        s.sessions.url = secret(memcached.url());
    })
    .await;
    scenario::run(&app, false).await;
}

#[tokio::test]
async fn redis_sessions() {
    let redis = Redis::start();
    let app = spawn_app_with(|s| {
        s.sessions.backend = SessionBackend::Redis;
        s.sessions.url = secret(redis.url());
    })
    .await;
    scenario::run(&app, false).await;
}

#[tokio::test]
async fn memory_feed_cache() {
    let app = spawn_app_with(|s| s.cache.backend = CacheBackend::Memory).await;
    scenario::run(&app, true).await;
}

#[tokio::test]
async fn memcached_feed_cache() {
    let memcached = Memcached::start();
    let app = spawn_app_with(|s| {
        s.cache.backend = CacheBackend::Memcached;
        s.cache.url = secret(memcached.url());
    })
    .await;
    scenario::run(&app, true).await;
}

#[tokio::test]
async fn redis_feed_cache() {
    let redis = Redis::start();
    let app = spawn_app_with(|s| {
        s.cache.backend = CacheBackend::Redis;
        s.cache.url = secret(redis.url());
    })
    .await;
    scenario::run(&app, true).await;
}

#[tokio::test]
async fn a_cached_feed_costs_one_round_trip_to_redis() {
    let redis = Redis::start();
    let app = spawn_app_with(|s| {
        s.cache.backend = CacheBackend::Redis;
        s.cache.url = secret(redis.url());
    })
    .await;
    assert_eq!(scenario::feed_source(&app).await.0, "db");
    assert_eq!(scenario::feed_source(&app).await.0, "cache");
    let before = command_calls(&redis).await;
    for _ in 0..5 {
        assert_eq!(scenario::feed_source(&app).await.0, "cache");
    }
    let after = command_calls(&redis).await;
    let made = |name: &str| after.get(name).unwrap_or(&0) - before.get(name).unwrap_or(&0);
    assert_eq!(made("mget"), 5, "one MGET per view: {after:?}");
    // Our own INFO calls and connection set-up are not the app's.
    let ours = |k: &str| k == "info" || k.starts_with("client") || k == "hello";
    let others: u64 = after
        .keys()
        .filter(|k| *k != "mget" && !ours(k))
        .map(|k| made(k))
        .sum();
    assert_eq!(others, 0, "nothing else: {before:?} → {after:?}");
}

/// Redis's count of calls per command (INFO commandstats).
async fn command_calls(redis: &Redis) -> std::collections::HashMap<String, u64> {
    let client = deadpool_redis::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = deadpool_redis::redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    // "cmdstat_mget:calls=5,usec=..."
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

mod s3 {
    use std::time::Duration;

    use super::*;
    use crate::helpers::TestApp;
    use crate::services::{s3_bucket, S3Bucket};
    use photoscale::configuration::S3Serve;

    #[tokio::test]
    async fn s3_storage_with_presigned_urls() {
        let bucket = s3_bucket().await;
        let app = s3_app(&bucket).await;
        scenario::run(&app, false).await;
        let keys = bucket.keys().await;
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert!(app.stored_files().is_empty(), "nothing on local disk");

        // Photo links point straight at the bucket, signed, and the CSP allows it.
        let response = app.get("/").await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains(&bucket.endpoint), "{csp}");
        let src = scenario::image_src_in(&response.text().await.unwrap());
        assert!(src.starts_with(&bucket.endpoint), "{src}");
        assert!(src.contains("X-Amz-Signature="), "{src}");
        // The link pins the type and inline display under the server's name.
        let src = src.replace("&amp;", "&");
        let signed: std::collections::HashMap<String, String> = url::Url::parse(&src)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(signed["response-content-type"], "image/jpeg", "{src}");
        assert!(
            signed["response-content-disposition"].starts_with("inline;filename=\""),
            "{src}"
        );
        assert!(
            !src.contains('+'),
            "no value a server could read two ways: {src}"
        );
        // (S3 answers with both; moto, the emulator here, honours the type
        // only, so the disposition is checked in the signed link above.)
        let from_bucket = reqwest::get(&src).await.unwrap();
        assert_eq!(
            from_bucket.status(),
            200,
            "the pinned link is validly signed"
        );
        assert_eq!(from_bucket.headers()["content-type"], "image/jpeg");
    }

    #[tokio::test]
    async fn s3_storage_proxied_by_the_app_with_a_prefix() {
        let bucket = s3_bucket().await;
        let app = spawn_app_with(|s| {
            bucket.configure(s);
            s.storage.s3.prefix = "site-a/".into();
            s.storage.s3.serve = S3Serve::Proxy;
        })
        .await;
        scenario::run(&app, false).await;
        let keys = bucket.keys().await;
        assert_eq!(keys.len(), 4);
        assert!(keys.iter().all(|k| k.starts_with("site-a/")), "{keys:?}");
        let src = scenario::image_src_in(&app.get_html("/").await);
        assert!(src.starts_with("/photos/"), "served through the app: {src}");
    }

    #[tokio::test]
    async fn presigned_links_are_reused_for_half_their_lifetime() {
        let bucket = s3_bucket().await;
        let ttl = Duration::from_secs(4);
        let app = spawn_app_with(|s| {
            bucket.configure(s);
            s.storage.s3.presign_ttl = ttl;
        })
        .await;
        app.sign_up("pat").await;
        app.upload(crate::images::jpeg(30, 30), "p.jpg", "image/jpeg")
            .await;
        let first = scenario::image_src_in(&app.get_html("/").await);
        let second = scenario::image_src_in(&app.get_html("/").await);
        assert_eq!(first, second, "signed once, then reused");
        assert_link_has_time_left(&first, ttl / 2);

        // Past half its lifetime a link is signed anew, never handed out
        // close to its expiry.
        tokio::time::sleep(ttl / 2 + Duration::from_millis(300)).await;
        let third = scenario::image_src_in(&app.get_html("/").await);
        assert_ne!(first, third, "re-signed");
        assert_link_has_time_left(&third, ttl / 2);
        let (content_type, bytes) = scenario::fetch_photo(&app, &third).await;
        assert_eq!(content_type, "image/jpeg");
        assert!(!bytes.is_empty());
    }

    /// The link's X-Amz-Date plus X-Amz-Expires is at least `left` away.
    fn assert_link_has_time_left(link: &str, left: Duration) {
        let url = url::Url::parse(link).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let signed = chrono_free_parse(&query["X-Amz-Date"]);
        let expires = signed + query["X-Amz-Expires"].parse::<u64>().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            expires >= now + left.as_secs().saturating_sub(1),
            "{link} expires at {expires}, now {now}"
        );
    }

    /// "20261126T031500Z" as seconds since the epoch.
    fn chrono_free_parse(stamp: &str) -> u64 {
        let text = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &stamp[0..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11],
            &stamp[11..13],
            &stamp[13..15]
        );
        humantime::parse_rfc3339(&text)
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    async fn s3_app(bucket: &S3Bucket) -> TestApp {
        spawn_app_with(|s| bucket.configure(s)).await
    }

    #[tokio::test]
    async fn failed_database_insert_removes_the_stored_objects() {
        let bucket = s3_bucket().await;
        let app = s3_app(&bucket).await;
        app.sign_up("kim").await;
        let token = app.csrf_token("/upload").await;
        app.state.db.close().await;
        let photo = crate::images::jpeg(40, 40);
        let response = app
            .upload_with(Some(&token), photo, "k.jpg", "image/jpeg", "")
            .await;
        assert_eq!(response.status().as_u16(), 503);
        assert!(bucket.keys().await.is_empty(), "no object without its row");
    }

    #[tokio::test]
    async fn failed_storage_write_leaves_no_row() {
        let bucket = s3_bucket().await;
        let app = s3_app(&bucket).await;
        app.sign_up("lou").await;
        let gone = reqwest::Client::new()
            .delete(format!("{}/{}", bucket.endpoint, bucket.name))
            .send()
            .await
            .unwrap();
        assert!(gone.status().is_success(), "bucket deleted under the app");
        let response = app
            .upload(crate::images::jpeg(40, 40), "l.jpg", "image/jpeg")
            .await;
        assert_eq!(response.status().as_u16(), 503);
        let page = response.text().await.unwrap();
        assert!(page.contains("nothing was uploaded"), "{page}");
        assert!(app.feed_ids().await.is_empty(), "no row without its object");
    }

    #[tokio::test]
    async fn cdn_base_url_rewrites_photo_links() {
        let bucket = s3_bucket().await;
        let app = spawn_app_with(|s| {
            bucket.configure(s);
            s.storage.cdn_base_url = Some("https://d111111abcdef8.cloudfront.net".into());
        })
        .await;
        app.sign_up("carol").await;
        let response = app
            .upload(crate::images::jpeg(20, 20), "a.jpg", "image/jpeg")
            .await;
        assert_eq!(response.status().as_u16(), 303);
        let response = app.get("/").await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("https://d111111abcdef8.cloudfront.net"),
            "{csp}"
        );
        let src = scenario::image_src_in(&response.text().await.unwrap());
        let re = regex::Regex::new(
            r"^https://d111111abcdef8\.cloudfront\.net/thumbnails/[0-9a-f]{32}\.jpg$",
        )
        .unwrap();
        assert!(re.is_match(&src), "{src}");
    }
}

#[tokio::test]
async fn session_ttl_is_applied_in_the_store() {
    use deadpool_redis::redis::AsyncCommands;
    let redis = Redis::start();
    let app = spawn_app_with(|s| {
        s.sessions.backend = SessionBackend::Redis;
        s.sessions.url = secret(redis.url());
        s.sessions.ttl = std::time::Duration::from_secs(90);
    })
    .await;
    app.sign_up("lee").await;
    let client = deadpool_redis::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = conn.keys("photoscale:session:*").await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let ttl: i64 = conn.ttl(&keys[0]).await.unwrap();
    assert!((1..=90).contains(&ttl), "ttl {ttl}");
}
