use crate::helpers::Site;
use crate::helpers::{spawn_with_settings, test_settings, PASSWORD};
use crate::images;

#[tokio::test]
async fn a_restart_keeps_users_photos_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let first = spawn_with_settings(test_settings(dir.path())).await;
    first.sign_up("alice").await;
    first
        .upload(images::png(40, 30), "a.png", "image/png")
        .await;
    let ids = first.feed_ids().await;
    assert_eq!(ids.len(), 1);
    first.stop().await;

    let mut second = spawn_with_settings(test_settings(dir.path())).await;
    // Same browser, new server process: the session cookie is still honoured,
    // because the generated session key was kept in the data directory.
    second.client = first.client.clone();
    assert!(second
        .get_html("/")
        .await
        .contains("Logged in as <strong>alice</strong>"));
    assert_eq!(second.feed_ids().await, ids);
    let image = second.get(&format!("/photos/{}/image", ids[0])).await;
    assert_eq!(image.status().as_u16(), 200);

    let fresh = crate::helpers::browser();
    second.client = fresh;
    assert_eq!(second.login("alice", PASSWORD).await.status().as_u16(), 303);
}
