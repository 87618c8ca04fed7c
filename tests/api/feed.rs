use std::time::{Duration, Instant};

use crate::helpers::Site;
use crate::helpers::{spawn_app, spawn_app_with};
use crate::images;

#[tokio::test]
async fn an_empty_site_shows_a_friendly_empty_state() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status().as_u16(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("No photos yet."), "{html}");
    assert!(html.contains(r#"href="/register""#));
}

#[tokio::test]
async fn the_feed_shows_the_latest_n_newest_first_with_uploader_and_time() {
    let app = spawn_app_with(|s| s.feed.size = 3).await;
    app.sign_up("alice").await;
    let mut uploaded = Vec::new();
    for i in 0..4 {
        app.upload(images::png(20 + i, 20), "p.png", "image/png")
            .await;
        uploaded.push(app.feed_ids().await[0].clone());
    }
    let ids = app.feed_ids().await;
    let newest_three: Vec<_> = uploaded.iter().rev().take(3).cloned().collect();
    assert_eq!(ids, newest_three);
    let html = app.get_html("/").await;
    assert!(html.contains(r#"<span class="uploader">alice</span>"#));
    assert!(html.contains("just now"));
    assert!(html.contains("<time datetime=\""));
    assert!(
        html.contains(&format!(r#"href="/photos/{}""#, ids[0])),
        "thumbnails link to the photo"
    );
}

#[tokio::test]
async fn every_page_shows_the_serving_instance_and_carries_its_header() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    for path in [
        "/",
        "/login",
        "/register",
        "/no-such-page",
        "/static/style.css",
        "/healthz",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.headers()["x-instance-id"], "i-test", "{path}");
        let is_html = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html");
        let body = response.text().await.unwrap();
        if is_html {
            assert!(body.contains(r#"class="instance-id">i-test<"#), "{path}");
            assert!(
                body.contains(&address),
                "{path} shows the listening address"
            );
        }
    }
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_404() {
    let app = spawn_app().await;
    let response = app.get("/photos/not-an-id").await;
    assert_eq!(response.status().as_u16(), 404);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Not found") && html.contains("Go to the front page"),
        "{html}"
    );
}

#[tokio::test]
async fn simulated_latency_delays_the_front_page_and_can_change_at_run_time() {
    let app = spawn_app_with(|s| s.latency = Duration::from_millis(400)).await;
    let started = Instant::now();
    let html = app.get_html("/").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(html.contains("400 ms"));

    app.state.latency.set(Duration::ZERO);
    assert!(app.get_html("/").await.contains(r#"class="latency">0 ms<"#));
}

#[tokio::test]
async fn a_kept_anonymous_page_is_never_shown_to_a_member_nor_stale() {
    let app = spawn_app().await;
    let visitor = crate::helpers::browser();
    let anonymous = || async {
        visitor
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let first = anonymous().await;
    assert_eq!(first, anonymous().await, "the same page for every visitor");
    assert!(first.contains("No photos yet."));

    // A member's page is their own, before and after an anonymous one.
    app.sign_up("alice").await;
    assert!(app
        .get_html("/")
        .await
        .contains("Logged in as <strong>alice</strong>"));
    app.upload(images::jpeg(40, 30), "a.jpg", "image/jpeg")
        .await;
    let after = anonymous().await;
    assert!(!after.contains("Logged in as"), "{after}");
    assert!(!after.contains("csrf_token"), "no one's form token");
    assert_eq!(crate::helpers::photo_ids_in(&after).len(), 1, "not stale");
    assert!(app
        .get_html("/")
        .await
        .contains("Logged in as <strong>alice</strong>"));
}

#[tokio::test]
async fn relative_times_move_on_even_while_the_feed_is_cached() {
    use photoscale::configuration::CacheBackend;
    let app = spawn_app_with(|s| s.cache.backend = CacheBackend::Memory).await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(40, 30), "a.jpg", "image/jpeg")
        .await;
    // Make the photo 44.5 s old: "just now" for half a second more.
    let url = format!("sqlite://{}", app.data_dir.join("photoscale.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE photos SET created_at = created_at - 44500")
        .execute(&pool)
        .await
        .unwrap();
    let (source, _, html) = crate::scenario::feed_source(&app).await;
    assert_eq!(source, "db");
    assert!(html.contains(">just now</time>"), "{html}");

    tokio::time::sleep(Duration::from_millis(800)).await;
    let (source, _, html) = crate::scenario::feed_source(&app).await;
    assert_eq!(source, "cache", "the same records, from the cache");
    assert!(html.contains(">1 minute ago</time>"), "{html}");
}
