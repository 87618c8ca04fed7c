//! A stack made when moto was the local S3 server kept its photos in moto's
//! request recording (`s3/recording.jsonl`). The first `up` with photoscale's
//! own S3 server moves them, once, bytes and content types alike.

use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;

use super::stack::Stack;
use crate::services::process::{free_port, program, wait_for_port, ServiceProcess};

/// Records a moto session that stores `objects` in the photos bucket, the
/// way an older stack's S3 server did.
async fn record_with_moto(recording: &std::path::Path, objects: &[(&str, &[u8], &str)]) {
    let port = free_port();
    let mut command = Command::new(program("moto_server"));
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_ENABLE_RECORDING", "True")
        .env("MOTO_RECORDER_FILEPATH", recording);
    let log = recording.with_extension("log");
    let mut moto = ServiceProcess::spawn("moto_server", command, &log);
    wait_for_port("moto_server", port, &mut moto, &log);
    let config = aws_sdk_s3::Config::builder()
        .http_client(crate::helpers::s3_http_client())
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "photoscale",
            "old",
            None,
            None,
            "test",
        ))
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    s3.create_bucket().bucket("photos").send().await.unwrap();
    for (key, body, content_type) in objects {
        s3.put_object()
            .bucket("photos")
            .key(*key)
            .content_type(*content_type)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap();
    }
    moto.stop();
}

#[tokio::test]
async fn up_moves_the_photos_of_a_moto_recording_into_the_s3_server_once() {
    let stack = Stack::unstarted();
    let root = stack.state_dir.path();
    std::fs::write(root.join(".photoscale-state"), "made by photoscale infra\n").unwrap();
    std::fs::create_dir_all(root.join("s3")).unwrap();
    let recording = root.join("s3/recording.jsonl");
    let photo = vec![0xd8u8; 300_000];
    let objects: [(&str, &[u8], &str); 3] = [
        ("originals/aaaa.jpg", &photo, "image/jpeg"),
        ("thumbnails/aaaa.jpg", b"small", "image/jpeg"),
        ("originals/bbbb.png", b"png bytes", "image/png"),
    ];
    record_with_moto(&recording, &objects).await;
    assert!(std::fs::metadata(&recording).unwrap().len() > 300_000);

    stack.change_to(2, &[]).await;
    let bucket = stack.bucket();
    assert_eq!(
        bucket.keys().await,
        [
            "originals/aaaa.jpg",
            "originals/bbbb.png",
            "thumbnails/aaaa.jpg"
        ]
    );
    for (key, body, content_type) in objects {
        let (bytes, stored_type) = bucket.get(key).await;
        assert_eq!(bytes, body, "{key}");
        assert_eq!(stored_type.as_deref(), Some(content_type), "{key}");
    }
    assert!(!recording.exists(), "the recording is not replayed again");
    assert!(
        root.join("s3/recording.jsonl.migrated").exists(),
        "but kept"
    );

    let again = stack.change_to(2, &[]).await;
    assert!(again.contains("Nothing to change"), "{again}");
    stack.down_and_check_nothing_is_left().await;
}
