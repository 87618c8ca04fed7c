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

/// Decoding memory is budgeted by width × height × bytes per pixel: a
/// 16-bit RGBA PNG takes 8 bytes a pixel, twice, whatever its file size.
#[tokio::test]
async fn an_image_whose_decoding_would_pass_the_memory_budget_is_refused() {
    let app = spawn_app_with(|s| s.uploads.decode_memory_bytes = 16 * 1024 * 1024).await;
    app.sign_up("wanda").await;
    let wide = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(
        1500,
        1500,
        image::Rgba([9000, 20000, 30000, 65535]),
    );
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba16(wide)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let png = png.into_inner();
    assert!(png.len() < 200_000, "small on disk: {}", png.len());
    let response = app.upload(png, "deep.png", "image/png").await;
    assert_eq!(response.status(), 413);
    let page = response.text().await.unwrap();
    assert!(page.contains("MiB of memory"), "{page}");
    assert_nothing_stored(&app).await;
    // An 8-bit photo of ordinary size still goes through.
    let ok = app
        .upload(images::jpeg(800, 600), "ok.jpg", "image/jpeg")
        .await;
    assert!(ok.status().is_redirection(), "{}", ok.status());
}

/// The token is checked when the photo part starts, before a byte of it is
/// written: an oversized photo without one gets the 403, not the 413.
#[tokio::test]
async fn a_photo_without_a_form_token_is_refused_before_it_is_read() {
    let app = spawn_app_with(|s| s.uploads.max_bytes = 64 * 1024).await;
    app.sign_up("xavier").await;
    let response = app
        .upload_with(None, vec![0xFF; 100 * 1024], "big.jpg", "image/jpeg", "")
        .await;
    assert_eq!(response.status(), 403);
    assert_nothing_stored(&app).await;
    // With its token the same file is read, and found too large.
    let token = app.csrf_token("/upload").await;
    let response = app
        .upload_with(
            Some(&token),
            vec![0xFF; 100 * 1024],
            "big.jpg",
            "image/jpeg",
            "",
        )
        .await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_form_with_too_many_parts_is_refused() {
    let app = spawn_app().await;
    app.sign_up("yusuf").await;
    let token = app.csrf_token("/upload").await;
    let mut form = reqwest::multipart::Form::new().text("csrf_token", token);
    for i in 0..20 {
        form = form.text(format!("extra{i}"), "x");
    }
    let response = app
        .client
        .post(app.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("too many parts"));
}

/// Raw HTTP, to declare a length and then not send it.
async fn raw_post(
    app: &crate::helpers::TestApp,
    head: &str,
    body: &[u8],
) -> (String, std::time::Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let started = std::time::Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    (
        String::from_utf8_lossy(&answer[..n]).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_body_declared_far_over_the_limit_is_refused_from_its_headers() {
    let app = spawn_app().await;
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
        1u64 << 40
    );
    let (answer, took) = raw_post(&app, &head, b"").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(took < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn an_upload_that_stalls_gets_a_408_at_the_deadline() {
    let app =
        spawn_app_with(|s| s.uploads.receive_timeout = std::time::Duration::from_secs(1)).await;
    app.sign_up("zora").await;
    let token = app.csrf_token("/upload").await;
    // The session cookie, as the browser client holds it.
    let cookie = app.session_cookie();
    let body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEG bytes that stop here"
    );
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
    );
    let (answer, took) = raw_post(&app, &head, body.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took >= std::time::Duration::from_millis(900), "{took:?}");
    assert!(took < std::time::Duration::from_secs(4), "{took:?}");
    assert_nothing_stored(&app).await;
}

/// Damaged and mutated images through the whole HTTP path: every one is
/// stored whole or refused with a 4xx, never a 5xx, and nothing is stored
/// without its row (two objects, original and thumbnail, per row).
#[tokio::test]
async fn mutated_images_are_stored_whole_or_refused_never_a_5xx() {
    use rand::{Rng, SeedableRng};
    let app = spawn_app_with(|s| s.limits.signups_per_address = 1_000).await;
    app.sign_up("mutant").await;
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/upload");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let mut accepted = 0;
    for i in 0..60 {
        let mut bytes = seeds[i % seeds.len()].clone();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..3) {
                0 => bytes[at] ^= 1 << rng.gen_range(0..8),
                1 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, rng.gen()),
            }
        }
        let status = app.upload(bytes, "m.bin", "image/jpeg").await.status();
        assert!(status.as_u16() < 500, "mutation {i}: {status}");
        if status.is_redirection() {
            accepted += 1;
        }
    }
    assert!(
        (1..60).contains(&accepted),
        "some mutations survive, some are refused: {accepted} accepted"
    );
    let rows = app.state.db.latest_photos(100).await.unwrap().len();
    assert_eq!(rows, accepted, "one row per accepted upload");
    assert_eq!(
        app.stored_files().len(),
        2 * rows,
        "two objects per row, no orphan"
    );
}
