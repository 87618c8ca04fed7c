use crate::helpers::spawn_app;
use crate::helpers::Site;

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
}

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone_and_pages_say_so() {
    let app = spawn_app().await;
    app.state.db.close().await;

    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
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
