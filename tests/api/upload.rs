use crate::helpers::Site;
use crate::helpers::{location, spawn_app, spawn_app_with, PASSWORD};
use crate::images;

#[tokio::test]
async fn each_accepted_format_is_stored_under_a_server_made_name() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let cases = [
        (images::jpeg(640, 480), "holiday.jpg", "image/jpeg"),
        (images::png(300, 200), "diagram.png", "image/png"),
        (
            images::encoded(image::ImageFormat::Gif, 120, 90),
            "anim.gif",
            "image/gif",
        ),
        (
            images::encoded(image::ImageFormat::WebP, 500, 500),
            "modern.webp",
            "image/webp",
        ),
    ];
    for (bytes, name, mime) in cases.clone() {
        let response = app.upload(bytes, name, mime).await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "{name}: {}",
            response.text().await.unwrap()
        );
        assert_eq!(location(&response), "/");
    }
    let ids = app.feed_ids().await;
    assert_eq!(ids.len(), 4);
    // Newest first: the WebP was uploaded last.
    for (id, (bytes, name, mime)) in ids.iter().zip(cases.iter().rev()) {
        let response = app.get(&format!("/photos/{id}/image")).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], *mime, "{name}");
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name} is served unchanged"
        );
    }
    let files = app.stored_files();
    assert_eq!(
        files.len(),
        8,
        "an original and a thumbnail each: {files:?}"
    );
    for file in &files {
        for (_, name, _) in &cases {
            assert!(
                !file.contains(name.split('.').next().unwrap()),
                "client names are never used: {file}"
            );
        }
    }
}

#[tokio::test]
async fn thumbnails_are_bounded_and_keep_the_aspect_ratio() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(1600, 900), "wide.jpg", "image/jpeg")
        .await;
    app.upload(images::transparent_png(300, 900), "tall.png", "image/png")
        .await;
    let ids = app.feed_ids().await;

    let tall = app.get(&format!("/photos/{}/thumb", ids[0])).await;
    assert_eq!(
        tall.headers()["content-type"],
        "image/png",
        "transparency is kept"
    );
    let tall = image::load_from_memory(&tall.bytes().await.unwrap()).unwrap();
    assert_eq!((tall.width(), tall.height()), (133, 400));

    let wide = app.get(&format!("/photos/{}/thumb", ids[1])).await;
    assert_eq!(wide.headers()["content-type"], "image/jpeg");
    let wide = image::load_from_memory(&wide.bytes().await.unwrap()).unwrap();
    assert_eq!((wide.width(), wide.height()), (400, 225));
}

#[tokio::test]
async fn a_path_like_file_name_is_harmless() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let response = app
        .upload(images::png(50, 50), "../../../etc/evil.png", "image/png")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(!app.data_dir.join("../etc/evil.png").exists());
    assert!(app
        .stored_files()
        .iter()
        .all(|f| f.starts_with("originals/") || f.starts_with("thumbnails/")));
}

/// Asserts that a rejected upload left nothing behind: no row, no object, no temp file.
async fn assert_nothing_stored(app: &crate::helpers::TestApp) {
    assert!(app.feed_ids().await.is_empty(), "no photo in the feed");
    assert!(
        app.stored_files().is_empty(),
        "no stored object: {:?}",
        app.stored_files()
    );
    // The temporary file is removed on the blocking pool as the request
    // ends, so give it a moment under load.
    let mut temp = Vec::new();
    for _ in 0..50 {
        temp = std::fs::read_dir(app.data_dir.join("tmp"))
            .unwrap()
            .collect::<Vec<_>>();
        if temp.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(temp.is_empty(), "no temporary file left: {temp:?}");
}

#[tokio::test]
async fn text_renamed_to_jpg_is_rejected_by_content() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let response = app
        .upload(
            b"#!/bin/sh\necho not a photo\n".to_vec(),
            "photo.jpg",
            "image/jpeg",
        )
        .await;
    assert_eq!(response.status().as_u16(), 415);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("not a JPEG, PNG, GIF or WebP image"),
        "{html}"
    );
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn other_image_formats_are_rejected() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&[
        0x3a, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 0x28, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24,
        0,
    ]);
    bmp.resize(58, 0);
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    for (bytes, name, mime) in [
        (bmp, "picture.png", "image/png"),
        (svg, "vector.gif", "image/gif"),
    ] {
        let response = app.upload(bytes, name, mime).await;
        assert_eq!(response.status().as_u16(), 415, "{name}");
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_damaged_image_is_rejected() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let mut jpeg = images::jpeg(200, 200);
    jpeg.truncate(40);
    let response = app.upload(jpeg, "cut.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 415);
    assert!(response.text().await.unwrap().contains("could not be read"));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn an_empty_file_is_rejected() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let response = app.upload(Vec::new(), "empty.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains("The file is empty"));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_file_over_the_default_limit_gets_a_friendly_413() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let mut big = images::jpeg(64, 64);
    big.resize(10 * 1024 * 1024 + 1, 0);
    let response = app.upload(big, "big.jpg", "image/jpeg").await;
    assert_eq!(response.status().as_u16(), 413);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Photos can be at most 10 MiB"), "{html}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn the_size_limit_is_configurable() {
    let app = spawn_app_with(|s| s.uploads.max_bytes = 20_000).await;
    app.sign_up("alice").await;
    let small = images::png(16, 16);
    assert_eq!(
        app.upload(small, "ok.png", "image/png")
            .await
            .status()
            .as_u16(),
        303
    );
    let noisy = images::png(400, 400);
    assert!(noisy.len() > 20_000);
    let response = app.upload(noisy, "large.png", "image/png").await;
    assert_eq!(response.status().as_u16(), 413);
    assert!(response.text().await.unwrap().contains("at most 19 KiB"));
}

#[tokio::test]
async fn a_decompression_bomb_is_rejected_from_its_header() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let bomb = images::bomb_png(100_000, 100_000);
    assert!(bomb.len() < 100);
    let response = app.upload(bomb, "bomb.png", "image/png").await;
    assert_eq!(response.status().as_u16(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("100000 × 100000 pixels"), "{html}");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn upload_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let missing = app
        .upload_with(None, images::png(20, 20), "a.png", "image/png", "")
        .await;
    assert_eq!(missing.status().as_u16(), 403);
    let wrong = app
        .upload_with(
            Some("forged"),
            images::png(20, 20),
            "a.png",
            "image/png",
            "",
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 403);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn upload_when_logged_out_is_refused() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let token = app.csrf_token("/upload").await;
    app.logout().await;
    let response = app
        .upload_with(Some(&token), images::png(20, 20), "a.png", "image/png", "")
        .await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You need to be logged in"));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_caption_becomes_the_alt_text_and_is_escaped() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let token = app.csrf_token("/upload").await;
    let caption = "Sunset <script>alert(1)</script>";
    let response = app
        .upload_with(
            Some(&token),
            images::png(20, 20),
            "a.png",
            "image/png",
            caption,
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let html = app.get_html("/").await;
    assert!(
        html.contains(r#"alt="Sunset &lt;script&gt;alert(1)&lt;&#x2F;script&gt;""#),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
}

#[tokio::test]
async fn the_upload_page_needs_a_login() {
    let app = spawn_app().await;
    let response = app.get("/upload").await;
    assert_eq!(response.status().as_u16(), 303);
    app.register("alice", PASSWORD).await;
    let html = app.get_html("/upload").await;
    assert!(html.contains(r#"type="file""#));
    assert!(html.contains("up to 10 MiB"));
}
