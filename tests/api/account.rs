//! The account page: a password change (re-authentication required) and
//! "log out everywhere" end the account's other sessions, on every backend,
//! and a session ends at `sessions.ttl` whatever the browser keeps.

use std::time::Duration;

use crate::helpers::{spawn_app_with, Site, TestApp, PASSWORD};
use photoscale::configuration::Settings;

const NEW_PASSWORD: &str = "a brand new passphrase";

fn quick_recheck(s: &mut Settings) {
    s.sessions.recheck_every = Duration::from_millis(200);
}

/// A second browser on the same app, logged in as `name`.
async fn second_browser(app: &TestApp, name: &str, password: &str) -> TestApp {
    let other = app.clone_for_browser();
    assert_eq!(other.login(name, password).await.status(), 303);
    other
}

async fn logged_in(app: &TestApp, name: &str) -> bool {
    app.get_html("/")
        .await
        .contains(&format!("Logged in as <strong>{name}</strong>"))
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_other_sessions() {
    let app = spawn_app_with(quick_recheck).await;
    app.sign_up("hugo").await;
    let other = second_browser(&app, "hugo", PASSWORD).await;
    assert!(logged_in(&other, "hugo").await);

    let token = app.csrf_token("/account").await;
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post_form(
                "/account/password",
                &[
                    ("csrf_token", &token),
                    ("current_password", current),
                    ("password", new),
                    ("password_confirm", confirm),
                ],
            )
            .await
        }
    };
    let wrong = change("not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("not your current password"));
    let weak = change(PASSWORD, "short", "short").await;
    assert_eq!(weak.status(), 422);
    assert!(logged_in(&other, "hugo").await, "nothing changed yet");

    let done = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert!(
        logged_in(&app, "hugo").await,
        "this browser stays logged in"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!logged_in(&other, "hugo").await, "the other session ended");
    assert!(logged_in(&app, "hugo").await, "this one still stands");

    app.logout().await;
    assert_eq!(
        app.login("hugo", PASSWORD).await.status(),
        401,
        "the old password"
    );
    assert_eq!(app.login("hugo", NEW_PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_account() {
    let app = spawn_app_with(quick_recheck).await;
    app.sign_up("iris").await;
    let other = second_browser(&app, "iris", PASSWORD).await;
    // A copy of this browser's cookie, as a thief would hold it.
    let copy = app.clone_for_browser();
    copy.plant_cookies(&app.session_cookie());
    assert!(logged_in(&copy, "iris").await, "the copy works before");

    let token = app.csrf_token("/account").await;
    let response = app
        .post_form("/account/logout-everywhere", &[("csrf_token", &token)])
        .await;
    assert_eq!(response.status(), 303);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (who, browser) in [("this", &app), ("the other", &other), ("the copied", &copy)] {
        assert!(!logged_in(browser, "iris").await, "{who} session ended");
    }
    assert_eq!(
        app.login("iris", PASSWORD).await.status(),
        303,
        "logging in again works"
    );
    assert!(logged_in(&app, "iris").await);
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_whatever_the_browser_keeps() {
    let app = spawn_app_with(|s| s.sessions.ttl = Duration::from_secs(1)).await;
    app.sign_up("jules").await;
    assert!(logged_in(&app, "jules").await);
    // A browser that keeps the cookie past its expiry (or a copy of it).
    let kept = app.session_cookie();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let keeper = app.clone_for_browser();
    keeper.plant_cookies(&kept);
    assert!(keeper.session_cookie().contains("photoscale_session="));
    assert!(!logged_in(&keeper, "jules").await, "refused by the server");
}

#[tokio::test]
async fn the_account_page_needs_a_login() {
    let app = spawn_app_with(|_| {}).await;
    let response = app.get("/account").await;
    assert_eq!(response.status(), 303);
    assert_eq!(crate::helpers::location(&response), "/login?next=/account");
}
