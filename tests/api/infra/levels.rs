//! Each level of the ladder, stood up with `photoscale infra up`, driven
//! through its entry point only, checked against the level's promise, then
//! taken down with nothing left behind.

use std::collections::BTreeSet;

use super::stack::Stack;
use crate::helpers::Site;
use crate::images;
use crate::scenario::{fetch_photo, image_src_in};

fn served_by(response: &reqwest::Response) -> String {
    response.headers()["x-instance-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The instances that answered `times` GETs of `path` with 200.
async fn instances_answering(site: &impl Site, path: &str, times: usize) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..times {
        let response = site.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        seen.insert(served_by(&response));
    }
    seen
}

fn both() -> BTreeSet<String> {
    ["i-1".to_owned(), "i-2".to_owned()].into()
}

/// Uploads a photo through the stack and returns (its id, its bytes).
async fn upload_one(stack: &Stack) -> (String, Vec<u8>) {
    let photo = images::jpeg(80, 60);
    let response = stack
        .upload(photo.clone(), "holiday.jpg", "image/jpeg")
        .await;
    assert_eq!(response.status().as_u16(), 303, "upload through the stack");
    let ids = stack.feed_ids().await;
    assert!(!ids.is_empty(), "the feed shows the upload");
    (ids[0].clone(), photo)
}

#[tokio::test]
async fn level_0_is_one_instance_on_the_embedded_default() {
    let stack = Stack::up(0, &[]).await;
    assert_eq!(
        instances_answering(&stack, "/", 2).await,
        ["i-1".to_owned()].into()
    );
    stack.sign_up("ada").await;
    let (id, photo) = upload_one(&stack).await;
    let page = stack.get_html(&format!("/photos/{id}")).await;
    assert_eq!(fetch_photo(&stack, &image_src_in(&page)).await.1, photo);
    let status = stack.status().await;
    let components: Vec<&str> = status["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        components,
        ["fleet"],
        "one server, and the fleet view beside it"
    );
    let fleet = reqwest::get(format!("http://127.0.0.1:{}/fleet.json", stack.port + 15))
        .await
        .unwrap();
    assert_eq!(
        fleet.status().as_u16(),
        200,
        "every stack has its fleet view"
    );
    assert_eq!(status["instances"][0]["health"], "healthy");
    assert!(
        !stack.files_under("instances/i-1/data").is_empty(),
        "SQLite and photos live in the state directory"
    );
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_1_is_one_site_across_two_instances() {
    let stack = Stack::up(1, &[]).await;
    assert_eq!(
        instances_answering(&stack, "/", 4).await,
        both(),
        "round-robin"
    );

    stack.sign_up("bea").await;
    let mut logged_in_on = BTreeSet::new();
    for _ in 0..4 {
        let response = stack.get("/").await;
        let instance = served_by(&response);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Logged in as <strong>bea</strong>"),
            "{instance} honours the login"
        );
        logged_in_on.insert(instance);
    }
    assert_eq!(logged_in_on, both());

    let (id, photo) = upload_one(&stack).await;
    let page = stack.get_html(&format!("/photos/{id}")).await;
    let src = image_src_in(&page);
    assert!(src.starts_with('/'), "served by the app: {src}");
    let mut served_on = BTreeSet::new();
    for _ in 0..4 {
        let response = stack.get(&src).await;
        assert_eq!(response.status().as_u16(), 200);
        served_on.insert(served_by(&response));
        assert_eq!(response.bytes().await.unwrap().to_vec(), photo);
    }
    assert_eq!(served_on, both(), "the photo is served by both instances");
    assert_eq!(
        stack.files_under("shared-photos").len(),
        2,
        "original and thumbnail"
    );

    let status = stack.status().await;
    for instance in status["instances"].as_array().unwrap() {
        assert_eq!(instance["load_balancer"], "UP", "{status:#}");
        assert_eq!(instance["latency_ms"], 0);
    }
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_1_with_local_storage_loses_photos_on_the_other_instance() {
    let stack = Stack::up(1, &["--storage", "local"]).await;
    stack.sign_up("cyrus").await;
    let (id, _) = upload_one(&stack).await;
    let page = stack.get_html(&format!("/photos/{id}")).await;
    let src = image_src_in(&page);
    let mut statuses = BTreeSet::new();
    for _ in 0..4 {
        statuses.insert(stack.get(&src).await.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 404].into(),
        "one instance has the file, the other does not"
    );
}

#[tokio::test]
async fn level_1_with_memory_sessions_loses_the_session_on_the_other_instance() {
    let stack = Stack::up(1, &["--sessions", "memory"]).await;
    // The sign-up form's token is signed with the key every instance shares,
    // so the POST works wherever it lands; the session it starts, though,
    // lives in that one instance's memory.
    let form = stack.get("/register").await;
    let token = crate::helpers::csrf_in(&form.text().await.unwrap()).unwrap();
    let fields = [
        ("csrf_token", token.as_str()),
        ("username", "dee"),
        ("password", crate::helpers::PASSWORD),
        ("password_confirm", crate::helpers::PASSWORD),
    ];
    let post = stack.post_form("/register", &fields).await;
    assert_eq!(post.status().as_u16(), 303, "signed up and logged in");
    let logged_in_at = served_by(&post);
    // Round-robin: of the next two pages one comes from the other instance,
    // which has never seen that session: the login does not hold.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let page = stack.get("/").await;
        let from = served_by(&page);
        let html = page.text().await.unwrap();
        seen.push((from, html.contains("Logged in as <strong>dee</strong>")));
    }
    assert!(
        seen.iter()
            .any(|(from, logged_in)| *from == logged_in_at && *logged_in),
        "logged in where the session lives: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(from, logged_in)| *from != logged_in_at && !*logged_in),
        "logged out on the other instance: {seen:?}"
    );
}

#[tokio::test]
async fn level_2_keeps_photos_in_the_s3_bucket_not_on_disk() {
    let stack = Stack::up(2, &[]).await;
    stack.sign_up("eve").await;
    let (id, photo) = upload_one(&stack).await;
    let keys = stack.bucket().keys().await;
    assert_eq!(keys.len(), 2, "original and thumbnail: {keys:?}");
    assert!(keys.iter().any(|k| k.contains(&id)), "{keys:?}");
    assert!(stack.files_under("shared-photos").is_empty());
    let on_disk: Vec<String> = stack
        .files_under("instances")
        .into_iter()
        .filter(|f| f.contains("/photos/"))
        .collect();
    assert!(on_disk.is_empty(), "no photo on local disk: {on_disk:?}");
    let page = stack.get_html(&format!("/photos/{id}")).await;
    assert_eq!(fetch_photo(&stack, &image_src_in(&page)).await.1, photo);
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_3_grows_and_shrinks_the_fleet_without_restarting_haproxy() {
    let stack = Stack::up(3, &["--min", "2", "--max", "4"]).await;
    let haproxy = stack.pid_of("haproxy").await;
    stack
        .change_to(3, &["--min", "2", "--max", "4", "--desired", "3"])
        .await;
    assert_eq!(
        stack.pid_of("haproxy").await,
        haproxy,
        "added through the runtime API"
    );
    let seen = instances_answering(&stack, "/", 6).await;
    assert!(
        seen.contains("i-3"),
        "the new instance takes traffic: {seen:?}"
    );

    stack
        .change_to(3, &["--min", "2", "--max", "4", "--desired", "2"])
        .await;
    assert_eq!(
        stack.pid_of("haproxy").await,
        haproxy,
        "removed through the runtime API"
    );
    assert_eq!(instances_answering(&stack, "/", 4).await, both());
    stack.down_and_check_nothing_is_left().await;
}

#[tokio::test]
async fn level_4_serves_the_feed_from_cache_and_invalidates_on_upload() {
    let stack = Stack::up(4, &[]).await;
    stack.sign_up("fin").await;
    let source = |r: &reqwest::Response| r.headers()["x-feed-source"].to_str().unwrap().to_owned();
    stack.get("/").await; // fills the cache
    let cached = stack.get("/").await;
    assert_eq!(
        source(&cached),
        "cache",
        "the other instance reads the shared cache"
    );

    let response = stack
        .upload(images::png(20, 20), "new.png", "image/png")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let fresh = stack.get("/").await;
    assert_eq!(
        source(&fresh),
        "db",
        "the upload invalidated the cached feed"
    );
    let fresh_html = fresh.text().await.unwrap();
    let again = stack.get("/").await;
    assert_eq!(source(&again), "cache");
    assert_eq!(
        crate::helpers::photo_ids_in(&again.text().await.unwrap()),
        crate::helpers::photo_ids_in(&fresh_html),
        "the cache holds the new feed"
    );
    assert_eq!(crate::helpers::photo_ids_in(&fresh_html).len(), 1);
    stack.down_and_check_nothing_is_left().await;
}
