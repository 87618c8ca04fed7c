use std::time::{Duration, Instant};

use crate::helpers::Site;
use crate::helpers::{spawn_app, TestApp};

/// Polls `/healthz` until it answers 503 (each answer comes at once, from
/// the background check), failing if that takes longer than `limit`.
/// Returns the 503's body.
pub async fn unhealthy_within(app: &TestApp, limit: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let asked = Instant::now();
        let response = app.get("/healthz").await;
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "/healthz waited on the database"
        );
        if response.status().as_u16() == 503 {
            return response.json().await.unwrap();
        }
        assert!(
            started.elapsed() < limit,
            "/healthz still answers 200 after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn healthz_reports_instance_version_and_database() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["instance_id"], "i-test");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["reachable"], true);
    // The build id: version, commit and build time, also in the page strip.
    let build = body["build"].as_str().expect("a build id");
    let pattern = format!(
        r"^{}\+g([0-9a-f]{{7}}|unknown)\.\d{{8}}T\d{{6}}Z$",
        regex::escape(env!("CARGO_PKG_VERSION"))
    );
    assert!(
        regex::Regex::new(&pattern).unwrap().is_match(build),
        "{build}"
    );
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains(&format!("photoscale {build}")), "{page}");
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone_and_pages_say_so() {
    let app = spawn_app().await;
    app.state.db.close().await;

    let body = unhealthy_within(&app, Duration::from_millis(1500)).await;
    assert_eq!(body["database"]["reachable"], false);

    let page = app.get("/").await;
    assert_eq!(page.status().as_u16(), 503);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("The database is not reachable right now"),
        "{html}"
    );
    assert!(
        !html.to_lowercase().contains("sqlx"),
        "no internals in the page"
    );
}
