//! Headers every response carries, and which pages no cache may keep.

use crate::helpers::{spawn_app, spawn_app_with, Site};

const SECURITY_HEADERS: [&str; 4] = [
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
];

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    for header in SECURITY_HEADERS {
        assert!(
            response.headers().contains_key(header),
            "{what} ({}) lacks {header}",
            response.status()
        );
    }
}

#[tokio::test]
async fn error_responses_carry_the_security_headers() {
    let app = spawn_app().await;
    let not_found = app.get("/no/such/page").await;
    assert_eq!(not_found.status(), 404);
    assert_security_headers(&not_found, "a 404 page");

    let bad_query = app.get("/photos/not-an-id/image").await;
    assert_security_headers(&bad_query, "a bad photo id");

    // A form posted without its token: 403 with our page.
    let refused = app
        .post_form("/login", &[("username", "x"), ("password", "y")])
        .await;
    assert_eq!(refused.status(), 403);
    assert_security_headers(&refused, "a refused CSRF token");
}

#[tokio::test]
async fn pages_with_a_form_token_or_a_username_are_never_stored() {
    let app = spawn_app().await;
    let anonymous = app.get("/").await;
    assert_ne!(
        anonymous
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "the anonymous front page holds nothing personal"
    );
    let form = app.get("/login").await;
    assert_eq!(form.headers()["cache-control"], "no-store", "a CSRF token");

    app.sign_up("nadia").await;
    for path in ["/", "/upload"] {
        let page = app.get(path).await;
        assert_eq!(page.status(), 200);
        assert_eq!(
            page.headers()["cache-control"],
            "no-store",
            "{path} shows the username"
        );
    }
}

#[tokio::test]
async fn hsts_only_when_configured() {
    let plain = spawn_app().await;
    let response = plain.get("/").await;
    assert!(!response.headers().contains_key("strict-transport-security"));

    let behind_tls = spawn_app_with(|s| s.server.hsts = true).await;
    for path in ["/", "/no/such/page"] {
        let response = behind_tls.get(path).await;
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}
