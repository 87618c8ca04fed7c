//! Abuse limits: failed logins per account and per address, sign-ups and
//! wrong admin tokens per address, counted in the store the fleet shares.

use std::time::Duration;

use secrecy::SecretString;

use crate::helpers::{spawn_app_with, Site, TestApp, PASSWORD};
use crate::services::{Memcached, Redis};
use photoscale::configuration::{SessionBackend, Settings};

fn quick_limits(s: &mut Settings) {
    s.limits.login_failures_per_account = 3;
    s.limits.login_failures_per_address = 8;
    s.limits.signups_per_address = 4;
    s.limits.admin_failures_per_address = 3;
    s.limits.first_wait = Duration::from_secs(1);
}

async fn assert_must_wait(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 429, "{what}");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{what}: {retry_after}");
    assert_security_headers(&response);
    let page = response.text().await.unwrap();
    assert!(page.contains("Too many attempts"), "{what}: {page}");
    assert!(page.contains("wait"), "{what}: {page}");
}

fn assert_security_headers(response: &reqwest::Response) {
    assert!(response.headers().contains_key("content-security-policy"));
}

/// The reproduction: 40 wrong passwords for one account were 40 × 401.
#[tokio::test]
async fn wrong_passwords_for_one_account_make_it_wait_and_its_owner_gets_in_after() {
    let app = spawn_app_with(quick_limits).await;
    app.sign_up("victim").await;
    app.logout().await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(
            app.login("victim", "not the password!")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..3], &[401, 401, 401], "three are free");
    assert!(
        statuses[3..].iter().all(|&s| s == 429),
        "then a wait: {statuses:?}"
    );
    assert_must_wait(app.login("victim", "not the password!").await, "a fourth").await;
    // While it waits even the right password is not tried...
    assert_eq!(app.login("victim", PASSWORD).await.status(), 429);
    // ...and once the wait is over, the owner logs in, which resets the count.
    let retry = app.login("victim", PASSWORD).await;
    let wait: u64 = retry.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    assert_eq!(app.login("victim", PASSWORD).await.status(), 303);
    app.logout().await;
    assert_eq!(
        app.login("victim", "not the password!").await.status(),
        401,
        "the count started again"
    );
}

#[tokio::test]
async fn failed_logins_from_one_address_over_many_accounts_make_it_wait() {
    let app = spawn_app_with(quick_limits).await;
    for i in 0..8 {
        let status = app
            .login(&format!("user{i}"), "guessing away!")
            .await
            .status();
        assert_eq!(status, 401, "attempt {i}");
    }
    assert_must_wait(app.login("user99", "guessing away!").await, "the ninth").await;
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let app = spawn_app_with(quick_limits).await;
    for i in 0..4 {
        let response = app.register(&format!("newbie{i}"), PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-up {i}");
        app.logout().await;
    }
    assert_must_wait(app.register("newbie5", PASSWORD).await, "the fifth sign-up").await;
}

#[tokio::test]
async fn wrong_admin_tokens_are_limited() {
    let app = spawn_app_with(|s| {
        quick_limits(s);
        s.admin.token = Some(SecretString::from("the-right-admin-token-0123"));
    })
    .await;
    let get = |token: &'static str| {
        reqwest::Client::new()
            .get(app.url("/admin/latency"))
            .bearer_auth(token)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(get("wrong").await.unwrap().status(), 401);
    }
    let refused = get("the-right-admin-token-0123").await.unwrap();
    assert_eq!(refused.status(), 429, "even the right token waits");
    assert!(refused.headers().contains_key("retry-after"));
}

/// X-Forwarded-For names the client only when it comes from a trusted
/// proxy: from anyone else it cannot be used to dodge the limit.
#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let untrusting = spawn_app_with(quick_limits).await;
    let trusting = spawn_app_with(|s| {
        quick_limits(s);
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let login_from = |app: &TestApp, address: String, name: String| {
        let app_url = app.url("/login");
        let client = app.client.clone();
        async move {
            // The CSRF check fails first without a token, so fetch one.
            let html = client
                .get(app_url.clone())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let token = crate::helpers::csrf_in(&html).unwrap();
            client
                .post(app_url)
                .header("x-forwarded-for", address)
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("username", name.as_str()),
                    ("password", "a wrong password"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Each attempt claims another address, and names another account.
    let mut untrusted = Vec::new();
    let mut trusted = Vec::new();
    for i in 0..12 {
        let (address, name) = (format!("198.51.100.{i}"), format!("someone{i}"));
        untrusted.push(login_from(&untrusting, address.clone(), name.clone()).await);
        trusted.push(login_from(&trusting, address, name).await);
    }
    assert!(
        untrusted.contains(&429),
        "a client's own header is ignored: {untrusted:?}"
    );
    assert!(
        trusted.iter().all(|&s| s == 401),
        "through the trusted proxy each address counts on its own: {trusted:?}"
    );
}

async fn shared_store_counts_for_the_fleet(backend: SessionBackend, url: String) {
    let configure = |s: &mut Settings| {
        quick_limits(s);
        s.sessions.backend = backend;
        s.sessions.url = Some(SecretString::from(url.clone()));
    };
    let one = spawn_app_with(configure).await;
    let two = spawn_app_with(configure).await;
    one.sign_up("shared").await;
    one.logout().await;
    // Spread over two instances, the guesses still add up.
    for app in [&one, &two, &one] {
        assert_eq!(app.login("shared", "wrong password!").await.status(), 401);
    }
    assert_eq!(two.login("shared", "wrong password!").await.status(), 429);
    assert_eq!(one.login("shared", "wrong password!").await.status(), 429);
}

#[tokio::test]
async fn the_fleet_counts_together_in_memcached() {
    let memcached = Memcached::start();
    shared_store_counts_for_the_fleet(SessionBackend::Memcached, memcached.url()).await;
}

#[tokio::test]
async fn the_fleet_counts_together_in_redis() {
    let redis = Redis::start();
    shared_store_counts_for_the_fleet(SessionBackend::Redis, redis.url()).await;
}
