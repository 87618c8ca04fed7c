use crate::helpers::spawn_app;
use crate::helpers::Site;
use crate::images;

#[tokio::test]
async fn photos_have_caching_headers_and_answer_304() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(100, 80), "a.jpg", "image/jpeg")
        .await;
    let id = app.feed_ids().await.remove(0);

    for path in [format!("/photos/{id}/image"), format!("/photos/{id}/thumb")] {
        let first = app.get(&path).await;
        assert_eq!(first.status().as_u16(), 200);
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(
            etag.starts_with('"') && etag.len() == 66,
            "a strong sha256 etag: {etag}"
        );
        let cache = first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cache.contains("max-age=31536000"), "{cache}");
        assert_eq!(first.headers()["x-content-type-options"], "nosniff");

        let again = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert!(again.bytes().await.unwrap().is_empty());

        let list = format!("\"other\", {etag}");
        let listed = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", list)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status().as_u16(), 304);

        let stale = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", "\"stale\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn the_photo_page_shows_the_full_image_and_details() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(321, 123), "a.jpg", "image/jpeg")
        .await;
    let id = app.feed_ids().await.remove(0);
    let html = app.get_html(&format!("/photos/{id}")).await;
    assert_eq!(
        crate::scenario::image_src_in(&html),
        format!("/photos/{id}/image")
    );
    assert!(html.contains("321 × 123 px"));
    assert!(html.contains(r#"alt="Photo by alice""#));
}

#[tokio::test]
async fn unknown_photo_ids_are_404() {
    let app = spawn_app().await;
    for path in [
        "/photos/0123456789abcdef0123456789abcdef",
        "/photos/../../etc/passwd/image",
        "/photos/x/thumb",
    ] {
        assert_eq!(app.get(path).await.status().as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn static_files_are_served_with_etags() {
    let app = spawn_app().await;
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let etag = css.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/static/style.css"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
}

#[tokio::test]
async fn a_known_photo_is_served_without_the_database_or_the_disk() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(120, 90), "a.jpg", "image/jpeg")
        .await;
    let id = app.feed_ids().await.remove(0);
    let mut first = Vec::new();
    for variant in ["image", "thumb"] {
        let response = app.get(&format!("/photos/{id}/{variant}")).await;
        assert_eq!(response.status().as_u16(), 200);
        first.push(response.bytes().await.unwrap());
    }

    // A photo never changes under its id: its record and (small) bytes
    // were kept, so neither the database nor the files are read again.
    app.state.db.close().await;
    for file in app.stored_files() {
        std::fs::remove_file(app.data_dir.join("photos").join(file)).unwrap();
    }
    for (variant, bytes) in ["image", "thumb"].into_iter().zip(first) {
        let response = app.get(&format!("/photos/{id}/{variant}")).await;
        assert_eq!(response.status().as_u16(), 200, "{variant}");
        assert_eq!(
            response.headers()["content-length"].to_str().unwrap(),
            bytes.len().to_string()
        );
        assert_eq!(response.bytes().await.unwrap(), bytes, "{variant}");
    }
    // Anything it does not know still needs the database, and says so.
    let unknown = app
        .get("/photos/0123456789abcdef0123456789abcdef/image")
        .await;
    assert_eq!(unknown.status().as_u16(), 503);
}

#[tokio::test]
async fn large_originals_are_streamed_not_kept() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.storage.memory_cache_max_object_bytes = 1024;
    })
    .await;
    app.sign_up("alice").await;
    let original = images::jpeg(300, 200);
    assert!(original.len() > 1024);
    app.upload(original.clone(), "a.jpg", "image/jpeg").await;
    let id = app.feed_ids().await.remove(0);
    let path = format!("/photos/{id}/image");
    assert_eq!(app.get(&path).await.bytes().await.unwrap(), original);

    // Too large to keep: with its file gone, the next request finds nothing
    // (and says which instance's storage lacks it).
    let key = app
        .stored_files()
        .into_iter()
        .find(|f| f.starts_with("originals/"))
        .unwrap();
    std::fs::remove_file(app.data_dir.join("photos").join(key)).unwrap();
    assert_eq!(app.get(&path).await.status().as_u16(), 404);
}

/// A camera JPEG with its position in EXIF, a comment and XMP: what is
/// stored and served has none of them, keeps the orientation, and its
/// ETag is the hash of what is served.
#[tokio::test]
async fn originals_are_stored_without_their_metadata() {
    use sha2::Digest;
    const SECRET: &[u8] = b"GPSLatitude 48.8584 N";
    let app = spawn_app().await;
    app.sign_up("paula").await;
    let photo = images::jpeg_with_exif(120, 90, 6, SECRET);
    assert!(photo.windows(SECRET.len()).any(|w| w == SECRET));
    let response = app.upload(photo, "IMG_0001.jpg", "image/jpeg").await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let id = app.feed_ids().await.remove(0);

    let served = app.get(&format!("/photos/{id}/image")).await;
    assert_eq!(served.status(), 200);
    let disposition = served.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("inline; filename=\"{id}.jpg\""),
        "the server's name"
    );
    let etag = served.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = served.bytes().await.unwrap();
    assert!(
        !bytes.windows(SECRET.len()).any(|w| w == SECRET),
        "the GPS position is gone"
    );
    assert_eq!(
        etag,
        format!("\"{}\"", hex::encode(sha2::Sha256::digest(&bytes)))
    );
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (120, 90),
        "same pixels"
    );
    use image::ImageDecoder;
    let mut decoder =
        image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(bytes.as_ref())).unwrap();
    assert_eq!(
        decoder.orientation().unwrap(),
        image::metadata::Orientation::Rotate90,
        "the orientation stays, alone"
    );
    // Stored on disk the same way.
    for file in app.stored_files() {
        let stored = std::fs::read(app.data_dir.join("photos").join(&file)).unwrap();
        assert!(!stored.windows(SECRET.len()).any(|w| w == SECRET), "{file}");
    }
}
