//! The sweep of objects without a database row (an upload interrupted by a
//! crash between its objects and its row), on a directory store and on S3.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use photoscale::uploads::orphan_sweep::{sweep, SweepError};

use crate::helpers::{spawn_app_with, Site, TestApp};

/// Writes `path` (under the app's photo directory) as if written `age` ago.
fn plant(app: &TestApp, key: &str, age: Duration) {
    let path = app.data_dir.join("photos").join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"left by a crash").unwrap();
    backdate(&path, age);
}

fn backdate(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// Uploads one photo and makes its objects old too, so that the sweep
/// looks at them and must keep them because their row exists.
async fn old_photo(app: &TestApp) -> Vec<String> {
    app.sign_up("sam").await;
    let response = app
        .upload(crate::images::jpeg(64, 48), "a.jpg", "image/jpeg")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let files = app.stored_files();
    assert_eq!(files.len(), 2, "an original and a thumbnail: {files:?}");
    for file in &files {
        backdate(&app.data_dir.join("photos").join(file), HOUR);
    }
    files
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn each_instance_removes_old_objects_without_rows_and_keeps_the_rest() {
    let app = spawn_app_with(|s| {
        s.database.query_timeout = Duration::from_millis(200);
        s.storage.orphan_grace = Duration::from_secs(60);
        s.storage.sweep_every = Duration::from_millis(300);
    })
    .await;
    let photo = old_photo(&app).await;
    plant(&app, "originals/0rphan00000000000000000000000000.jpg", HOUR);
    plant(
        &app,
        "thumbnails/0rphan00000000000000000000000000.jpg",
        HOUR,
    );
    plant(&app, "originals/.0ther.jpg.0123456789abcdef.tmp", HOUR);
    // Within the grace: an upload that may still be writing its row.
    plant(
        &app,
        "originals/recent0000000000000000000000000.jpg",
        Duration::ZERO,
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut expected = photo.clone();
    expected.push("originals/recent0000000000000000000000000.jpg".into());
    expected.sort();
    while app.stored_files() != expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.stored_files(),
        expected,
        "the old orphans and the staging file go; the photo and the recent file stay"
    );
    assert_eq!(app.feed_ids().await.len(), 1, "the photo is still served");
}

#[tokio::test]
async fn nothing_is_removed_when_the_database_cannot_answer() {
    let app = spawn_app_with(|s| s.storage.sweep_every = Duration::ZERO).await;
    let mut before = old_photo(&app).await;
    plant(&app, "originals/0rphan00000000000000000000000000.jpg", HOUR);
    before.push("originals/0rphan00000000000000000000000000.jpg".into());
    before.sort();
    app.state.db.close().await;

    let result = sweep(&app.state.db, &app.state.storage, HOUR / 2).await;
    assert!(matches!(result, Err(SweepError::Database(_))), "{result:?}");
    assert_eq!(app.stored_files(), before, "nothing removed");
}

#[tokio::test]
async fn a_database_that_does_not_know_the_storage_stops_the_sweep() {
    // An instance pointed at a fresh database beside a store full of photos:
    // every object looks orphaned, and removing them would lose them all.
    let app = spawn_app_with(|s| s.storage.sweep_every = Duration::ZERO).await;
    for n in 0..30 {
        plant(&app, &format!("originals/ph0t0{n:027}.jpg"), HOUR);
    }
    let result = sweep(&app.state.db, &app.state.storage, HOUR / 2).await;
    match result {
        Err(SweepError::TooManyOrphans { orphans, old }) => {
            assert_eq!((orphans, old), (30, 30));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(app.stored_files().len(), 30, "nothing removed");
    let message = SweepError::TooManyOrphans {
        orphans: 30,
        old: 30,
    }
    .to_string();
    assert!(message.contains("check database.url"), "{message}");
}

#[tokio::test]
async fn objects_without_rows_are_removed_from_a_bucket() {
    use crate::services::s3_bucket;
    let bucket = s3_bucket().await;
    let app = spawn_app_with(|s| {
        bucket.configure(s);
        s.storage.sweep_every = Duration::ZERO;
    })
    .await;
    app.sign_up("ria").await;
    let response = app
        .upload(crate::images::jpeg(64, 48), "a.jpg", "image/jpeg")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let photo = bucket.keys().await;
    let orphan = "originals/0rphan00000000000000000000000000.jpg";
    let put = reqwest::Client::new()
        .put(format!("{}/{}/{orphan}", bucket.endpoint, bucket.name))
        .body("left by a crash")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    // S3 keeps modification times to the second.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let report = sweep(&app.state.db, &app.state.storage, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.orphans_removed, vec![orphan.to_owned()]);
    assert_eq!(report.old, 3);
    assert_eq!(bucket.keys().await, photo, "the photo's objects stay");
}
