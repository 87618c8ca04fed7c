use crate::helpers::Site;
use crate::helpers::{csrf_in, fingerprint_in, location, spawn_app, spawn_app_with, PASSWORD};
use photoscale::configuration::SessionBackend;

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
    let first = fingerprint_in(&app.get_html("/").await).expect("a session after sign-up");
    app.logout().await;
    app.login("erin", PASSWORD).await;
    let after = fingerprint_in(&app.get_html("/").await).expect("a session after login");
    assert_ne!(first, after, "login must start a new session");
}

/// Showing the login or sign-up form creates no session: its token is a
/// signed double-submit one, in a cookie of its own.
#[tokio::test]
async fn forms_for_visitors_create_no_session() {
    let app = spawn_app_with(|s| s.sessions.backend = SessionBackend::Memory).await;
    for path in ["/login", "/register"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        // With memory sessions a session cookie means an entry on the server.
        assert!(
            cookies
                .iter()
                .all(|c| !c.starts_with("photoscale_session=")),
            "{path}: nothing kept on the server: {cookies:?}"
        );
        let html = response.text().await.unwrap();
        assert!(fingerprint_in(&html).is_none(), "{path}: no session yet");
        assert!(
            crate::helpers::csrf_in(&html).is_some(),
            "{path}: a form token"
        );
    }
    // The form still works, and a forged token does not.
    app.sign_up("fern").await;
    app.logout().await;
    let forged = app
        .post_form(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("username", "fern"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn session_cookie_has_secure_flags_and_the_page_never_shows_it() {
    let app = spawn_app().await;
    app.sign_up("gwen").await;
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf_token", &app.csrf_token("/upload").await),
                ("username", "gwen"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("photoscale_session="))
        .expect("a session cookie at login");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set_cookie.contains(flag), "missing {flag}: {set_cookie}");
    }
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let html = app.get_html("/").await;
    assert!(
        !html.contains(&value),
        "the session cookie must not appear in the page"
    );
    assert!(
        fingerprint_in(&html).is_some(),
        "a fingerprint is shown instead"
    );
    let form = app.client.get(app.url("/login")).send().await.unwrap();
    for cookie in form.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap();
        for flag in ["HttpOnly", "Secure", "SameSite=Lax"] {
            assert!(cookie.contains(flag), "missing {flag}: {cookie}");
        }
    }
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
