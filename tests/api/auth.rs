use crate::helpers::Site;
use crate::helpers::{csrf_in, fingerprint_in, location, spawn_app, PASSWORD};

#[tokio::test]
async fn register_logs_in_and_shows_the_user() {
    let app = spawn_app().await;
    let response = app.register("alice", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
    let html = app.get_html("/").await;
    assert!(
        html.contains("Logged in as <strong>alice</strong>"),
        "{html}"
    );
    assert!(
        html.contains("Welcome, alice!"),
        "the welcome message is shown once"
    );
    assert!(
        !app.get_html("/").await.contains("Welcome, alice!"),
        "and only once"
    );
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id() {
    let app = spawn_app().await;
    app.sign_up("alice").await;
    let url = format!("sqlite://{}", app.data_dir.join("photoscale.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users WHERE username = 'alice'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn login_and_logout() {
    let app = spawn_app().await;
    app.sign_up("bob").await;
    assert_eq!(app.logout().await.status().as_u16(), 303);
    assert!(app.get_html("/").await.contains("Log in</a>"));

    let response = app.login("bob", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(app
        .get_html("/")
        .await
        .contains("Logged in as <strong>bob</strong>"));
}

#[tokio::test]
async fn login_is_case_insensitive_on_the_username() {
    let app = spawn_app().await;
    app.sign_up("Carol").await;
    app.logout().await;
    assert_eq!(app.login("carol", PASSWORD).await.status().as_u16(), 303);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_generic_message() {
    let app = spawn_app().await;
    app.sign_up("dave").await;
    app.logout().await;

    let wrong_password = app.login("dave", "not the password").await;
    let status_a = wrong_password.status().as_u16();
    let html_a = wrong_password.text().await.unwrap();
    let unknown_user = app.login("nobody", "not the password").await;
    let status_b = unknown_user.status().as_u16();
    let html_b = unknown_user.text().await.unwrap();

    assert_eq!((status_a, status_b), (401, 401));
    for html in [&html_a, &html_b] {
        assert!(html.contains("Incorrect username or password."), "{html}");
        assert!(!html.contains("Logged in as"));
    }
}

#[tokio::test]
async fn session_is_renewed_at_login() {
    let app = spawn_app().await;
    app.sign_up("erin").await;
    app.logout().await;
    let before = fingerprint_in(&app.get_html("/login").await).expect("a session before login");
    app.login("erin", PASSWORD).await;
    let after = fingerprint_in(&app.get_html("/").await).expect("a session after login");
    assert_ne!(before, after, "login must start a new session");
}

#[tokio::test]
async fn session_cookie_has_secure_flags_and_the_page_never_shows_it() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/register")).send().await.unwrap();
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(
        set_cookie.starts_with("photoscale_session="),
        "{set_cookie}"
    );
    for flag in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set_cookie.contains(flag), "missing {flag}: {set_cookie}");
    }
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    assert!(
        !html.contains(value),
        "the session cookie must not appear in the page"
    );
    assert!(
        fingerprint_in(&html).is_some(),
        "a fingerprint is shown instead"
    );
}

#[tokio::test]
async fn usernames_are_validated_with_a_clear_message() {
    let app = spawn_app().await;
    let cases = [
        ("ab", "3 to 32 characters"),
        ("has space", "only letters a-z, digits"),
        ("_leading", "start with a letter or a digit"),
    ];
    for (name, message) in cases {
        let response = app.register(name, PASSWORD).await;
        assert_eq!(response.status().as_u16(), 422, "{name}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{name}: {html}");
    }
}

#[tokio::test]
async fn weak_or_mismatched_passwords_are_refused() {
    let app = spawn_app().await;
    let short = app.register("frank", "short").await;
    assert_eq!(short.status().as_u16(), 422);
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("at least 12 characters"));

    let token = app.csrf_token("/register").await;
    let mismatch = app
        .post_form(
            "/register",
            &[
                ("csrf_token", &token),
                ("username", "frank"),
                ("password", PASSWORD),
                ("password_confirm", "different one"),
            ],
        )
        .await;
    assert_eq!(mismatch.status().as_u16(), 422);
    let html = mismatch.text().await.unwrap();
    assert!(html.contains("do not match"), "{html}");
    assert!(
        html.contains(r#"value="frank""#),
        "the username is kept for the retry"
    );
}

#[tokio::test]
async fn taken_username_is_refused_in_any_case() {
    let app = spawn_app().await;
    app.sign_up("grace").await;
    app.logout().await;
    let response = app.register("GRACE", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("That username is taken"));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.get("/register").await;
    let missing = app
        .post_form(
            "/register",
            &[
                ("username", "mallory"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(missing.status().as_u16(), 403);
    assert!(missing.text().await.unwrap().contains("Form expired"));
    let forged = app
        .post_form(
            "/register",
            &[
                ("csrf_token", "forged"),
                ("username", "mallory"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(
        app.login("mallory", PASSWORD).await.status().as_u16(),
        401,
        "no account was created"
    );
}

#[tokio::test]
async fn logout_needs_the_csrf_token() {
    let app = spawn_app().await;
    app.sign_up("heidi").await;
    let response = app.post_form("/logout", &[]).await;
    assert_eq!(response.status().as_u16(), 403, "no token");
    let response = app.post_form("/logout", &[("csrf_token", "nope")]).await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        app.get_html("/").await.contains("Logged in as"),
        "still logged in"
    );
}

#[tokio::test]
async fn login_redirects_back_to_a_local_next_page_only() {
    let app = spawn_app().await;
    app.sign_up("ivan").await;
    app.logout().await;
    let response = app.get("/upload").await;
    assert_eq!(location(&response), "/login?next=/upload");

    let html = app.get_html("/login?next=/upload").await;
    let token = csrf_in(&html).unwrap();
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "ivan"),
                ("password", PASSWORD),
                ("next", "/upload"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/upload");

    app.logout().await;
    let token = app.csrf_token("/login").await;
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", "ivan"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/");
}

/// The issue's reproduction: `?next=/%09/evil.example` arrives as a tab,
/// which browsers drop from a `Location`, leaving `//evil.example`.
#[tokio::test]
async fn login_never_redirects_off_site_through_ignored_characters() {
    let app = spawn_app().await;
    app.sign_up("olga").await;
    for (next, decoded) in [
        ("/%09/evil.example", "/\t/evil.example"),
        ("/%0a/evil.example", "/\n/evil.example"),
        ("/%5C/evil.example", "/\\/evil.example"),
        ("/.//evil.example", "/.//evil.example"),
    ] {
        app.logout().await;
        let html = app.get_html(&format!("/login?next={next}")).await;
        assert!(
            !html.contains("evil.example"),
            "the form does not carry {next} on"
        );
        let token = csrf_in(&html).unwrap();
        let response = app
            .post_form(
                "/login",
                &[
                    ("csrf_token", &token),
                    ("username", "olga"),
                    ("password", PASSWORD),
                    ("next", decoded),
                ],
            )
            .await;
        assert_eq!(location(&response), "/", "after ?next={next}");
    }
}
