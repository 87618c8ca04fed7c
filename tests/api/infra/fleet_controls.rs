//! The fleet view's controls through their HTTP interface, on a level-0
//! stack: the one-time link `up` prints, the session it opens, and what
//! each control does with good and bad input. (The browser test
//! e2e/fleet-controls.test.mjs drives the same controls on a level-3 stack.)

use regex::Regex;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use super::stack::Stack;

/// The link's view address and code, from what `up` printed.
fn link_in(stderr: &str) -> (String, String) {
    let link = Regex::new(r"(http://127\.0\.0\.1:\d+)/fleet#code=([A-Za-z0-9_-]{43})\n")
        .unwrap()
        .captures(stderr)
        .unwrap_or_else(|| panic!("no control link in:\n{stderr}"));
    (link[1].to_owned(), link[2].to_owned())
}

struct Controls {
    http: Client,
    view: String,
    cookie: String,
    csrf: String,
}

impl Controls {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.view))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.send(reqwest::Method::POST, path, Some(body)).await;
        (response.status(), response.json().await.unwrap())
    }

    async fn fleet(&self) -> Value {
        self.http
            .get(format!("{}/fleet.json", self.view))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

async fn open_session(http: &Client, view: &str, code: &str) -> Response {
    http.post(format!("{view}/fleet/session"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_one_time_link_opens_the_controls_and_each_control_checks_its_input() {
    let stack = Stack::unstarted();
    let stderr = stack.change_to(0, &[]).await;
    let (view, code) = link_in(&stderr);
    assert_eq!(view, format!("http://127.0.0.1:{}", stack.port + 15));
    let http = Client::new();

    // Bad input to the exchange, and a code nobody issued.
    let response = http
        .post(format!("{view}/fleet/session"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("send JSON such as"));
    let made_up = "A".repeat(43);
    assert_eq!(open_session(&http, &view, &made_up).await.status(), 403);

    // The printed code opens a session once.
    let response = open_session(&http, &view, &code).await;
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/fleet"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    let body: Value = response.json().await.unwrap();
    let again = open_session(&http, &view, &code).await;
    assert_eq!(again.status(), 403);
    let refusal: Value = again.json().await.unwrap();
    assert!(refusal["error"].as_str().unwrap().contains("already used"));
    let controls = Controls {
        http: http.clone(),
        view: view.clone(),
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        csrf: body["csrf"].as_str().unwrap().to_owned(),
    };

    // Without the cookie: 401; with it but a wrong CSRF token: 403.
    let anonymous = http
        .post(format!("{view}/fleet/latency"))
        .json(&json!({ "instance": "i-1", "latency_ms": 10 }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let forged = Controls {
        csrf: "wrong".into(),
        http: http.clone(),
        view: view.clone(),
        cookie: controls.cookie.clone(),
    };
    assert_eq!(
        forged
            .post(
                "/fleet/latency",
                json!({ "instance": "i-1", "latency_ms": 10 })
            )
            .await
            .0,
        403
    );

    // Latency: an unknown instance, a value too large, a field misspelt, then a good one.
    let (status, body) = controls
        .post(
            "/fleet/latency",
            json!({ "instance": "i-9", "latency_ms": 10 }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("it runs i-1"),
        "{body}"
    );
    let (status, body) = controls
        .post(
            "/fleet/latency",
            json!({ "instance": "all", "latency_ms": 90_000 }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("at most 30000 ms"),
        "{body}"
    );
    let (status, _) = controls
        .post(
            "/fleet/latency",
            json!({ "instance": "all", "latency": 10 }),
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = controls
        .post(
            "/fleet/latency",
            json!({ "instance": "all", "latency_ms": 250 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["done"], "latency of i-1 set to 250 ms");
    assert_eq!(stack.status().await["instances"][0]["latency_ms"], 250);

    // A load: out of range, then started and stopped.
    let (status, body) = controls.post("/fleet/load", json!({ "rate": 0 })).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("choose 1 to 500"),
        "{body}"
    );
    let (status, body) = controls.post("/fleet/load", json!({ "rate": 5 })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(controls.fleet().await["control"]["load"]["rate"], 5);
    let stopped = controls
        .send(reqwest::Method::DELETE, "/fleet/load", None)
        .await;
    let stopped: Value = stopped.json().await.unwrap();
    assert_eq!(stopped["done"], "load stopped");
    let fleet = controls.fleet().await;
    assert_eq!(fleet["control"]["load"], Value::Null);
    let actions: Vec<&str> = fleet["control"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"load started: 5 requests a second"),
        "{actions:?}"
    );

    // `up` again changes nothing and prints a new link.
    let stderr = stack.change_to(0, &[]).await;
    assert!(stderr.contains("Nothing to change"), "{stderr}");
    assert_ne!(link_in(&stderr).1, code, "a fresh code each time");

    // Kill: an unknown instance is refused; i-1 is killed.
    let (status, _) = controls
        .post("/fleet/kill", json!({ "instance": "i-7" }))
        .await;
    assert_eq!(status, 400);
    let pid = stack.pid_of("i-1").await;
    let (status, body) = controls
        .post("/fleet/kill", json!({ "instance": "i-1" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["done"]
        .as_str()
        .unwrap()
        .contains(&format!("pid {pid}")));
    let mut crashed = false;
    for _ in 0..40 {
        if stack.status().await["instances"][0]["health"] == "crashed" {
            crashed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(crashed, "i-1 is gone");
    stack.down_and_check_nothing_is_left().await;
}
