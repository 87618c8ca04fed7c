//! One user journey, run against every backend: register, upload, see it in
//! the feed (from the database, then from the cache when there is one), a
//! second upload invalidates the cache, open the photo, log out, log in.

use crate::helpers::{location, photo_ids_in, Site, TestApp, PASSWORD};
use crate::images;

pub const FEED_SOURCE: &str = "x-feed-source";

pub async fn feed_source(app: &TestApp) -> (String, Vec<String>, String) {
    let response = app.get("/").await;
    assert_eq!(response.status().as_u16(), 200);
    let source = response.headers()[FEED_SOURCE].to_str().unwrap().to_owned();
    let html = response.text().await.unwrap();
    (source, photo_ids_in(&html), html)
}

/// The `src` of the first `<img>` on the page, HTML entities undone.
pub fn image_src_in(html: &str) -> String {
    let re = regex::Regex::new(r#"<img src="([^"]+)""#).unwrap();
    let src = re.captures(html).expect("an <img> on the page")[1].to_owned();
    src.replace("&#x2F;", "/").replace("&amp;", "&")
}

/// Fetches a photo the way a browser does: relative to the app, following
/// a redirect (to a presigned URL) if there is one.
pub async fn fetch_photo(app: &impl Site, src: &str) -> (String, Vec<u8>) {
    let url = if src.starts_with('/') {
        app.url(src)
    } else {
        src.to_owned()
    };
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "fetching {src}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.bytes().await.unwrap().to_vec())
}

pub async fn run(app: &TestApp, cached: bool) {
    let (source, ids, html) = feed_source(app).await;
    assert_eq!((source.as_str(), ids.len()), ("db", 0));
    assert!(html.contains("No photos yet"), "{html}");

    app.sign_up("alice").await;
    let first = images::jpeg(64, 48);
    let response = app.upload(first.clone(), "first.jpg", "image/jpeg").await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap()
    );

    // The uploader's redirect shows the new photo, read from the database.
    let (source, ids, html) = feed_source(app).await;
    assert_eq!(source, "db");
    assert_eq!(ids.len(), 1);
    assert!(
        html.contains("fetched 1 record from the database"),
        "{html}"
    );

    let (source, again, html) = feed_source(app).await;
    assert_eq!(again, ids);
    if cached {
        assert_eq!(source, "cache");
        assert!(html.contains("served from cache"), "{html}");
    } else {
        assert_eq!(source, "db");
    }

    // A second upload invalidates the cache: the next view is fresh.
    let second = images::png(32, 32);
    let response = app.upload(second, "second.png", "image/png").await;
    assert_eq!(response.status().as_u16(), 303);
    let (source, ids_after, _) = feed_source(app).await;
    assert_eq!(
        source, "db",
        "the first view after an upload is never stale"
    );
    assert_eq!(ids_after.len(), 2);
    assert_eq!(ids_after[1], ids[0], "newest first");

    // The original comes back byte for byte, with its type.
    let page = app.get_html(&format!("/photos/{}", ids[0])).await;
    let (content_type, bytes) = fetch_photo(app, &image_src_in(&page)).await;
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(bytes, first);

    let response = app.logout().await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        app.get("/upload").await.status().as_u16(),
        303,
        "logged out"
    );
    let response = app.login("alice", PASSWORD).await;
    assert_eq!(location(&response), "/");
    assert_eq!(
        app.get("/upload").await.status().as_u16(),
        200,
        "logged in again"
    );
}
