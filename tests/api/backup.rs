//! `photoscale backup`: back up → wipe → restore gives back every user and
//! photo, on SQLite, MariaDB and PostgreSQL, with the engines' own tools
//! (a real `mariadb-dump` and `pg_dump`). Restore refuses to overwrite a
//! non-empty database without --force and refuses when a photo the backup
//! names is gone; prune keeps the newest.

use std::path::Path;

use secrecy::SecretString;

use crate::helpers::{photo_ids_in, spawn_with_settings, test_settings, Site, TestApp, PASSWORD};
use crate::images;
use crate::infra::stack::{photoscale, text};
use crate::services::{mariadb_database, postgres_database};

/// Runs `photoscale backup ARGS` on the database at `url` and the data
/// directory `dir` (photos in DIR/photos, backups in DIR/backups).
async fn backup(args: &[&str], url: &str, dir: &Path) -> std::process::Output {
    let config = dir.join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let config = config.display().to_string();
    let data_dir = dir.display().to_string();
    let mut all = vec!["--config", &config, "backup"];
    all.extend(args);
    all.extend(["--data-dir", &data_dir]);
    photoscale(&all, &[("PHOTOSCALE_DATABASE__URL", url)]).await
}

async fn app_on(url: &str, dir: &Path) -> TestApp {
    let mut settings = test_settings(dir);
    settings.database.url = Some(SecretString::from(url.to_owned()));
    spawn_with_settings(settings).await
}

async fn feed_ids(app: &TestApp) -> Vec<String> {
    photo_ids_in(&app.get("/").await.text().await.unwrap())
}

async fn round_trip(original_url: String, empty_url: String, spare_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let app = app_on(&original_url, dir.path()).await;
    app.sign_up("alice").await;
    for n in 0..2 {
        let response = app
            .upload(images::jpeg(40 + n, 30), "a.jpg", "image/jpeg")
            .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    let bob = app.clone_for_browser();
    bob.sign_up("bob").await;
    bob.upload(images::png(20, 20), "b.png", "image/png").await;
    let ids = feed_ids(&app).await;
    assert_eq!(ids.len(), 3);
    app.stop().await;

    let made = backup(&["create"], &original_url, dir.path()).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let id = text(&made.stdout).trim().to_owned();
    assert!(
        text(&made.stderr).contains("Backed up 2 user(s) and 3 photo(s)"),
        "{}",
        text(&made.stderr)
    );
    assert!(
        !text(&made.stderr).contains("secret"),
        "no password in the output"
    );
    let listed = backup(&["list", "--json"], &original_url, dir.path()).await;
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(
        listed[0]["objects"].as_array().unwrap().len(),
        6,
        "originals and thumbnails"
    );

    // The wipe: an empty database, the same photo storage.
    let restored = backup(&["restore", &id], &empty_url, dir.path()).await;
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(text(&restored.stderr).contains("2 user(s) and 3 photo(s)"));
    let app = app_on(&empty_url, dir.path()).await;
    assert_eq!(feed_ids(&app).await, ids, "every photo, in the same order");
    let photo = app.get(&format!("/photos/{}", ids[0])).await;
    assert_eq!(photo.status().as_u16(), 200);
    let response = app.login("alice", PASSWORD).await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "alice's password still works"
    );
    app.stop().await;

    // Not over a database with data, unless asked.
    let refused = backup(&["restore", &id], &empty_url, dir.path()).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not empty (2 user(s), 3 photo(s))"),
        "{}",
        text(&refused.stderr)
    );
    let forced = backup(&["restore", &id, "--force"], &empty_url, dir.path()).await;
    assert!(forced.status.success(), "{}", text(&forced.stderr));

    // A photo gone from the storage: refused, and nothing restored.
    let originals = dir.path().join("photos").join("originals");
    let gone = std::fs::read_dir(&originals)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&gone).unwrap();
    let missing = backup(&["restore", &id], &spare_url, dir.path()).await;
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr)
            .contains("1 of the backup's 6 photo objects are not in the photo storage"),
        "{}",
        text(&missing.stderr)
    );
    let spare = app_on(&spare_url, dir.path()).await;
    assert!(feed_ids(&spare).await.is_empty(), "nothing restored");
    spare.stop().await;

    // Unknown ids say what there is; prune keeps the newest.
    let unknown = backup(
        &["restore", "20200101T000000000Z-0000"],
        &spare_url,
        dir.path(),
    )
    .await;
    assert!(
        text(&unknown.stderr).contains(&format!("there: {id}")),
        "{}",
        text(&unknown.stderr)
    );
    let second = backup(&["create"], &original_url, dir.path()).await;
    let second = text(&second.stdout).trim().to_owned();
    assert!(second > id);
    let pruned = backup(&["prune", "--keep", "1"], &original_url, dir.path()).await;
    assert!(
        text(&pruned.stderr).contains(&format!("deleted 1 backup(s): {id}")),
        "{}",
        text(&pruned.stderr)
    );
    let listed = backup(&["list"], &original_url, dir.path()).await;
    assert!(text(&listed.stdout).contains(&second) && !text(&listed.stdout).contains(&id));
    let files = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .count();
    assert_eq!(files, 2, "the newest's database file and manifest");

    // Another engine: refused, with the way to move data across engines.
    if !original_url.starts_with("sqlite") {
        let other = sqlite_url(dir.path(), "other.db");
        let wrong = backup(&["restore", &second], &other, dir.path()).await;
        let message = text(&wrong.stderr);
        assert!(
            message.contains("database; this configuration's is SQLite"),
            "{message}"
        );
        assert!(message.contains("photoscale data copy"), "{message}");
    }
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

#[tokio::test]
async fn sqlite_backup_wipe_restore() {
    let dbs = tempfile::tempdir().unwrap();
    round_trip(
        sqlite_url(dbs.path(), "live.db"),
        sqlite_url(dbs.path(), "empty.db"),
        sqlite_url(dbs.path(), "spare.db"),
    )
    .await;
}

#[tokio::test]
async fn mariadb_backup_wipe_restore() {
    round_trip(
        mariadb_database().await,
        mariadb_database().await,
        mariadb_database().await,
    )
    .await;
}

#[tokio::test]
async fn postgres_backup_wipe_restore() {
    round_trip(
        postgres_database().await,
        postgres_database().await,
        postgres_database().await,
    )
    .await;
}

#[tokio::test]
async fn backups_can_go_to_a_bucket_of_their_own() {
    // AWS levels 0 and 1 keep backups in the stack's artifacts bucket: a
    // `[backup.s3]` table, here on the moto server.
    let bucket = crate::services::s3_bucket().await;
    let dir = tempfile::tempdir().unwrap();
    let live = sqlite_url(dir.path(), "live.db");
    let app = app_on(&live, dir.path()).await;
    app.sign_up("alice").await;
    app.upload(images::jpeg(30, 20), "a.jpg", "image/jpeg")
        .await;
    app.stop().await;
    let config = dir.path().join("bucket.toml");
    std::fs::write(
        &config,
        format!(
            "[backup.s3]\nbucket = \"{}\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\naccess_key_id = \"testing\"\nsecret_access_key = \"testing\"\n",
            bucket.name, bucket.endpoint
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let data_dir = dir.path().display().to_string();
    let run = |args: &'static [&'static str], url: String| {
        let (config, data_dir) = (config.clone(), data_dir.clone());
        async move {
            let mut all = vec!["--config", &config, "backup"];
            all.extend(args);
            all.extend(["--data-dir", &data_dir]);
            photoscale(&all, &[("PHOTOSCALE_DATABASE__URL", &url)]).await
        }
    };
    let made = run(&["create"], live.clone()).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let id = text(&made.stdout).trim().to_owned();
    assert_eq!(
        bucket.keys().await,
        [
            format!("backups/{id}.database.sqlite"),
            format!("backups/{id}.manifest.json")
        ]
    );
    assert!(
        !dir.path().join("backups").exists(),
        "nothing on local disk"
    );
    let empty = sqlite_url(dir.path(), "empty.db");
    let restored = photoscale(
        &[
            "--config",
            &config,
            "backup",
            "restore",
            &id,
            "--data-dir",
            &data_dir,
        ],
        &[("PHOTOSCALE_DATABASE__URL", &empty)],
    )
    .await;
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(text(&restored.stderr).contains("1 user(s) and 1 photo(s)"));
}
