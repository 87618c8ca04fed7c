//! Spawning the app and talking to it like a browser: cookies kept, CSRF
//! tokens read from the forms, redirects not followed (so tests see them).

use std::path::{Path, PathBuf};
use std::sync::Once;

use actix_web::dev::ServerHandle;
use actix_web::web;
use photoscale::configuration::Settings;
use photoscale::startup::Application;
use photoscale::state::AppState;
use reqwest::multipart::{Form, Part};
use reqwest::Response;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery";

static TRACING: Once = Once::new();

/// Logs are noise in test output; `TEST_LOG=1` shows them.
fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            // The writer lives as long as the test binary.
            std::mem::forget(photoscale::telemetry::init(
                photoscale::configuration::LogFormat::Text,
                "info",
            ));
        }
    });
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The client's cookies.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub state: web::Data<AppState>,
    pub data_dir: PathBuf,
    handle: ServerHandle,
    _dir: Option<TempDir>,
}

/// Settings for a test: random port, fresh data directory, a fixed instance id.
pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        ..Default::default()
    };
    settings.instance.id = Some("i-test".into());
    settings.server.workers = Some(2);
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    customise(&mut settings);
    let mut app = spawn_with_settings(settings).await;
    app._dir = Some(dir);
    app
}

/// Spawns on `settings` as given (the caller owns the data directory).
pub async fn spawn_with_settings(settings: Settings) -> TestApp {
    init_tracing();
    let data_dir = settings.data_dir.clone();
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://{}", app.address());
    let state = app.state();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let (client, jar) = browser_with_jar();
    TestApp {
        address,
        client,
        jar,
        state,
        data_dir,
        handle,
        _dir: None,
    }
}

/// A client that behaves like a browser: keeps cookies, shows redirects.
pub fn browser() -> reqwest::Client {
    browser_with_jar().0
}

/// The same, with its cookie jar, for requests written by hand.
pub fn browser_with_jar() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (client, jar)
}

/// A site driven like a browser: one app, or a whole stack behind its load
/// balancer. Implementors give the base URL and a cookie-keeping client.
#[allow(async_fn_in_trait)]
pub trait Site {
    fn base_url(&self) -> &str;
    fn client(&self) -> &reqwest::Client;

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), path)
    }

    async fn get(&self, path: &str) -> Response {
        self.client().get(self.url(path)).send().await.unwrap()
    }

    async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The CSRF token from the form on `path`.
    async fn csrf_token(&self, path: &str) -> String {
        csrf_in(&self.get_html(path).await).unwrap_or_else(|| panic!("no csrf_token on {path}"))
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client()
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    async fn register(&self, username: &str, password: &str) -> Response {
        let token = self.csrf_token("/register").await;
        self.post_form(
            "/register",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await
    }

    async fn login(&self, username: &str, password: &str) -> Response {
        let token = self.csrf_token("/login").await;
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Registers `username` (which logs in) and checks it worked.
    async fn sign_up(&self, username: &str) {
        let response = self.register(username, PASSWORD).await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "{}",
            response.text().await.unwrap()
        );
    }

    async fn logout(&self) -> Response {
        let token = csrf_in(&self.get_html("/").await).expect("a logout form with a token");
        self.post_form("/logout", &[("csrf_token", &token)]).await
    }

    /// Uploads through the form on `/upload`, with its CSRF token.
    async fn upload(&self, bytes: Vec<u8>, file_name: &str, mime: &str) -> Response {
        let token = self.csrf_token("/upload").await;
        self.upload_with(Some(&token), bytes, file_name, mime, "")
            .await
    }

    async fn upload_with(
        &self,
        token: Option<&str>,
        bytes: Vec<u8>,
        file_name: &str,
        mime: &str,
        caption: &str,
    ) -> Response {
        let mut form = Form::new();
        if let Some(token) = token {
            form = form.text("csrf_token", token.to_owned());
        }
        let part = Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime)
            .unwrap();
        form = form.text("caption", caption.to_owned()).part("photo", part);
        self.client()
            .post(self.url("/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Photo ids on the front page, in page order.
    async fn feed_ids(&self) -> Vec<String> {
        photo_ids_in(&self.get_html("/").await)
    }
}

impl Site for TestApp {
    fn base_url(&self) -> &str {
        &self.address
    }

    fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl TestApp {
    /// Every file under the photo directory, relative to it.
    pub fn stored_files(&self) -> Vec<String> {
        let root = self.data_dir.join("photos");
        let mut files = Vec::new();
        collect_files(&root, &root, &mut files);
        files.sort();
        files
    }

    /// The same app seen from another browser, with cookies of its own.
    pub fn clone_for_browser(&self) -> TestApp {
        let (client, jar) = browser_with_jar();
        TestApp {
            address: self.address.clone(),
            client,
            jar,
            state: self.state.clone(),
            data_dir: self.data_dir.clone(),
            handle: self.handle.clone(),
            _dir: None,
        }
    }

    /// Puts `cookies` (a `Cookie` header: `a=1; b=2`) in this browser's jar,
    /// as a copied cookie would be.
    pub fn plant_cookies(&self, cookies: &str) {
        let url = self.address.parse().unwrap();
        for pair in cookies.split("; ").filter(|p| !p.is_empty()) {
            self.jar.add_cookie_str(pair, &url);
        }
    }

    /// The `Cookie` header the client would send to this app.
    pub fn session_cookie(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url = self.address.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).map(|c| c[1].to_owned())
}

pub fn photo_ids_in(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"href="/photos/([0-9a-f]{32})""#).unwrap();
    re.captures_iter(html).map(|c| c[1].to_owned()).collect()
}

/// The session fingerprint shown in the page footer, if any.
pub fn fingerprint_in(html: &str) -> Option<String> {
    let re = regex::Regex::new(r#"class="session-fingerprint">([0-9a-f]+)<"#).unwrap();
    re.captures(html).map(|c| c[1].to_owned())
}

pub fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The HTTPS client for the AWS SDK's S3 client in tests: rustls with ring,
/// as the app's TLS (the SDK's default would build aws-lc).
pub fn s3_http_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
