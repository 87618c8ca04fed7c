//! `photoscale s3-server`, the local stack's S3 server: objects in files
//! that survive restarts and SIGKILL, every request signed (headers or a
//! presigned URL), presigned links that a plain HTTP client (a browser)
//! can fetch with the response overrides the app signs into them, nothing
//! that grows with reads, and a start well under 2 s.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::services::process::{free_port, wait_for_port, ServiceProcess};

const ACCESS_KEY: &str = "test-access";
const SECRET_KEY: &str = "test-secret-0123456789";
const BUCKET: &str = "photos";

struct S3Server {
    port: u16,
    process: ServiceProcess,
}

impl S3Server {
    /// Starts a server over `root` and returns it with how long it took to listen.
    fn start(root: &Path) -> (Self, Duration) {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_photoscale"));
        command
            .args(["s3-server", "--bucket", BUCKET])
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg(format!("--root={}", root.join("objects").display()))
            .env("PHOTOSCALE_S3_ACCESS_KEY_ID", ACCESS_KEY)
            .env("PHOTOSCALE_S3_SECRET_ACCESS_KEY", SECRET_KEY);
        let log = root.join(format!("s3-{port}.log"));
        let started = Instant::now();
        let mut process = ServiceProcess::spawn("s3-server", command, &log);
        wait_for_port("s3-server", port, &mut process, &log);
        (Self { port, process }, started.elapsed())
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn client(&self, secret: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .http_client(crate::helpers::s3_http_client())
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY, secret, None, None, "test",
            ))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

async fn put(client: &aws_sdk_s3::Client, key: &str, body: &[u8]) {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .content_type("image/jpeg")
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)));
}

async fn get(client: &aws_sdk_s3::Client, key: &str) -> Option<(Vec<u8>, Option<String>)> {
    let object = client
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .ok()?;
    let content_type = object.content_type().map(str::to_owned);
    let bytes = object.body.collect().await.unwrap().into_bytes().to_vec();
    Some((bytes, content_type))
}

async fn keys(client: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
    let page = client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    page.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn signed_put_get_list_delete_and_a_quick_start() {
    let dir = tempfile::tempdir().unwrap();
    let (server, took) = S3Server::start(dir.path());
    assert!(took < Duration::from_secs(2), "listening after {took:?}");
    let s3 = server.client(SECRET_KEY);
    put(&s3, "originals/a.jpg", b"photo a").await;
    put(&s3, "originals/b.jpg", b"photo b").await;
    put(&s3, "thumbnails/a.jpg", b"thumb a").await;
    assert_eq!(
        get(&s3, "originals/a.jpg").await,
        Some((b"photo a".to_vec(), Some("image/jpeg".to_owned())))
    );
    assert_eq!(
        keys(&s3, "originals/").await,
        ["originals/a.jpg", "originals/b.jpg"]
    );
    s3.delete_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "originals/a.jpg").await, None);
    assert_eq!(keys(&s3, "originals/").await, ["originals/b.jpg"]);
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    put(&server.client(SECRET_KEY), "originals/a.jpg", b"photo").await;
    let url = format!("{}/{BUCKET}/originals/a.jpg", server.endpoint());
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 403, "no signature");
    let put_anonymous = reqwest::Client::new()
        .put(&url)
        .body("overwritten")
        .send()
        .await
        .unwrap();
    assert_eq!(put_anonymous.status().as_u16(), 403);
    let wrong = server.client("not-the-secret-at-all");
    assert_eq!(get(&wrong, "originals/a.jpg").await, None, "wrong secret");
    assert!(wrong
        .put_object()
        .bucket(BUCKET)
        .key("originals/x.jpg")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .is_err());
    assert_eq!(
        get(&server.client(SECRET_KEY), "originals/a.jpg")
            .await
            .unwrap()
            .0,
        b"photo",
        "nothing was overwritten"
    );
}

#[tokio::test]
async fn a_presigned_link_works_from_a_plain_http_client_with_its_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    put(&s3, "originals/a.jpg", b"jpeg bytes").await;
    let link = s3
        .get_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .response_content_type("image/jpeg")
        .response_content_disposition("inline; filename=\"a.jpg\"")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let url = link.uri().to_owned();
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["content-disposition"], "inline; filename=\"a.jpg\"");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"jpeg bytes");

    let tampered = url.replace("originals/a.jpg", "originals/b.jpg");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status().as_u16(),
        403
    );
}

#[tokio::test]
async fn acknowledged_objects_survive_a_restart_and_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = S3Server::start(dir.path());
    put(
        &server.client(SECRET_KEY),
        "originals/kept.jpg",
        b"before restart",
    )
    .await;
    server.process.stop();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    assert_eq!(
        get(&s3, "originals/kept.jpg").await.unwrap().0,
        b"before restart"
    );

    // Objects acknowledged right up to the kill are all there afterwards.
    for n in 0..20 {
        put(
            &s3,
            &format!("originals/{n:02}.jpg"),
            &vec![n as u8; 200_000],
        )
        .await;
    }
    drop(server); // SIGKILL, then reaped
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    for n in 0..20 {
        let (bytes, content_type) = get(&s3, &format!("originals/{n:02}.jpg")).await.unwrap();
        assert_eq!(bytes, vec![n as u8; 200_000], "object {n}");
        assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    }
    assert_eq!(keys(&s3, "originals/").await.len(), 21);
}

#[tokio::test]
async fn reads_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    put(&s3, "originals/a.jpg", &[7; 50_000]).await;
    let before = size_of(&dir.path().join("objects"));
    for _ in 0..100 {
        assert!(get(&s3, "originals/a.jpg").await.is_some());
    }
    let link = s3
        .get_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    for _ in 0..100 {
        let response = reqwest::get(link.uri()).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    assert_eq!(
        size_of(&dir.path().join("objects")),
        before,
        "200 reads later"
    );
}

/// Bytes and entries under `dir`, recursively.
fn size_of(dir: &Path) -> (u64, usize) {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            let (bytes, entries) = size_of(&entry.path());
            total = (total.0 + bytes, total.1 + entries + 1);
        } else {
            total = (total.0 + meta.len(), total.1 + 1);
        }
    }
    total
}

#[tokio::test]
async fn the_apps_own_client_puts_lists_gets_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    let client =
        photoscale::storage::S3Client::fixed(&server.endpoint(), BUCKET, ACCESS_KEY, SECRET_KEY)
            .unwrap();
    for key in ["originals/a.jpg", "originals/b.jpg", "thumbnails/a.jpg"] {
        client
            .put_object(key, b"jpeg".to_vec().into(), 4, "image/jpeg", None)
            .await
            .unwrap_or_else(|e| panic!("PUT {key}: {e}"));
    }
    let listed = client.list_objects_v2("originals/", None).await.unwrap();
    let keys: Vec<&str> = listed.contents.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["originals/a.jpg", "originals/b.jpg"]);
    assert!(
        humantime::parse_rfc3339_weak(&listed.contents[0].last_modified).is_ok(),
        "{}",
        listed.contents[0].last_modified
    );
    let body = client.get_object("originals/a.jpg").await.unwrap();
    assert_eq!(body.bytes().await.unwrap().as_ref(), b"jpeg");
    client.delete_object("originals/a.jpg").await.unwrap();
    let missing = client.get_object("originals/a.jpg").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let wrong =
        photoscale::storage::S3Client::fixed(&server.endpoint(), BUCKET, ACCESS_KEY, "wrong")
            .unwrap();
    let refused = wrong.head_bucket().await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    drop(server);
}

#[tokio::test]
async fn ranges_heads_copies_folders_and_batch_deletes_work_as_in_s3() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    put(&s3, "originals/a.jpg", b"0123456789").await;
    put(&s3, "originals/sub/b.jpg", b"b").await;
    put(&s3, "thumbnails/a.jpg", b"t").await;

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(10));
    assert_eq!(head.content_type(), Some("image/jpeg"));
    let etag = head.e_tag().unwrap().to_owned();

    let part = s3
        .get_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .range("bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(part.content_range(), Some("bytes 2-4/10"));
    assert_eq!(
        part.body.collect().await.unwrap().into_bytes().as_ref(),
        b"234"
    );
    let unchanged = s3
        .get_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .if_none_match(&etag)
        .send()
        .await;
    let status = unchanged
        .expect_err("no body for the same ETag")
        .raw_response()
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(304), "304 Not Modified for the same ETag");

    s3.copy_object()
        .bucket(BUCKET)
        .key("copies/a.jpg")
        .copy_source(format!("{BUCKET}/originals/a.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&s3, "copies/a.jpg").await,
        Some((b"0123456789".to_vec(), Some("image/jpeg".to_owned())))
    );

    let top = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("originals/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    let folders: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(
        (listed, folders),
        (vec!["originals/a.jpg"], vec!["originals/sub/"])
    );
    // A prefix is listed from its folder; one with no folder, or ending in
    // an object's name, lists nothing.
    assert_eq!(
        keys(&s3, "orig").await,
        ["originals/a.jpg", "originals/sub/b.jpg"]
    );
    assert_eq!(keys(&s3, "originals/sub/").await, ["originals/sub/b.jpg"]);
    assert!(keys(&s3, "nothing/").await.is_empty());
    assert!(keys(&s3, "originals/a.jpg/").await.is_empty());
    assert!(keys(&s3, "../").await.is_empty());

    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(2)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        pages.push(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect::<Vec<_>>(),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        pages,
        [
            vec!["copies/a.jpg", "originals/a.jpg"],
            vec!["originals/sub/b.jpg", "thumbnails/a.jpg"]
        ]
    );

    let delete = aws_sdk_s3::types::Delete::builder()
        .objects(
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key("copies/a.jpg")
                .build()
                .unwrap(),
        )
        .objects(
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key("originals/sub/b.jpg")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let deleted = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(delete)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted().len(), 2);
    assert_eq!(keys_of(&s3).await, ["originals/a.jpg", "thumbnails/a.jpg"]);
    assert!(
        !dir.path().join("objects/photos/originals/sub").exists(),
        "a folder left empty goes"
    );

    s3.create_bucket().bucket("backups").send().await.unwrap();
    s3.head_bucket().bucket("backups").send().await.unwrap();
    let buckets = s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["backups", BUCKET]);
    assert!(s3.head_bucket().bucket("nothing").send().await.is_err());

    let multipart = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("big.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&multipart),
        Some("NotImplemented")
    );
}

async fn keys_of(client: &aws_sdk_s3::Client) -> Vec<String> {
    keys(client, "").await
}

#[tokio::test]
async fn a_body_that_does_not_match_its_checksum_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    let refused = s3
        .put_object()
        .bucket(BUCKET)
        .key("originals/a.jpg")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"photo"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&refused),
        Some("BadDigest"),
        "{}",
        aws_sdk_s3::error::DisplayErrorContext(&refused)
    );
    assert!(keys_of(&s3).await.is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("objects"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| name != BUCKET)
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Stacks made before this server kept their objects with s3s-fs, in the
/// same layout: an object's file at its key, its attributes in a JSON file
/// named after the bucket and key in base64.
#[tokio::test]
async fn objects_kept_by_the_former_server_are_served_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let objects = dir.path().join("objects");
    std::fs::create_dir_all(objects.join("photos/originals")).unwrap();
    std::fs::write(objects.join("photos/originals/old.jpg"), b"old photo").unwrap();
    std::fs::write(
        objects.join(".bucket-cGhvdG9z.object-b3JpZ2luYWxzL29sZC5qcGc.metadata.json"),
        r#"{"content_type":"image/jpeg","cache_control":"max-age=60"}"#,
    )
    .unwrap();
    let (server, _) = S3Server::start(dir.path());
    let s3 = server.client(SECRET_KEY);
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key("originals/old.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("image/jpeg"));
    assert_eq!(object.cache_control(), Some("max-age=60"));
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"old photo"
    );
}
