//! The requests themselves: a test user registered at the start, sessions
//! that behave like browsers (cookies, CSRF tokens from the forms), and one
//! request of each kind. The closed- and open-loop drivers are in
//! drivers.rs.
//!
//! Form flows (login, upload) go through reqwest, which keeps each
//! session's cookies; plain GETs (feed, photo page, `--path`) go on a
//! connection of the caller's own (connection.rs) with the session's
//! cookie, so the load test can keep up with a fast server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use rand::Rng;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderValue;
use reqwest::{Client, Response, StatusCode};

use super::connection::{Connection, Failure, Target};
use super::mix::{Kind, Mix};

const PASSWORD: &str = "loadtest password 1";
/// Longest wait for one answer before it counts as a timeout.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What every request needs to know about the site under test.
pub struct Site {
    base: String,
    /// Where plain GETs go directly; None for https sites (reqwest then).
    target: Option<Target>,
    username: String,
    photo_ids: Vec<String>,
    /// What `Kind::Get` fetches (`--path`).
    fixed_path: Option<String>,
}

/// One visitor: a cookie jar shared by its form requests and its GETs.
pub struct Session {
    http: Client,
    jar: Arc<Jar>,
    /// The jar's `Cookie` header for the site, kept ready for GETs.
    cookie: Mutex<Option<HeaderValue>>,
}

impl Session {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let http = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .expect("a client builds");
        Self {
            http,
            jar,
            cookie: Mutex::new(None),
        }
    }

    fn cookie(&self) -> Option<HeaderValue> {
        lock(&self.cookie).clone()
    }

    /// Takes cookies a GET set into the jar, and re-reads the header.
    fn remember(&self, site: &Site, set_cookies: &[HeaderValue]) {
        let Ok(url) = site.base.parse::<url::Url>() else {
            return;
        };
        if !set_cookies.is_empty() {
            self.jar.set_cookies(&mut set_cookies.iter(), &url);
        }
        *lock(&self.cookie) = self.jar.cookies(&url);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Site {
    /// Registers the test user and, when the mix views photos, makes sure
    /// there is one to view.
    pub async fn prepare(
        base: &str,
        mix: &Mix,
        fixed_path: Option<String>,
    ) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let session = Session::new();
        let username = format!(
            "loadtest-{:06x}",
            rand::thread_rng().gen::<u32>() & 0xff_ffff
        );
        let mut site = Self {
            target: Target::parse(&base),
            base,
            username,
            photo_ids: Vec::new(),
            fixed_path,
        };
        let client = &session.http;
        let token = site.csrf_token(client, "/register").await?;
        let fields = [
            ("csrf_token", token.as_str()),
            ("username", &site.username),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        let response = client
            .post(site.url("/register"))
            .form(&fields)
            .send()
            .await?;
        if response.status() != StatusCode::SEE_OTHER {
            bail!(
                "could not register the load test's user at {} (HTTP {}); behind a load balancer the instances must share sessions",
                site.base,
                response.status()
            );
        }
        site.photo_ids = site.feed_photo_ids(client).await?;
        if site.photo_ids.is_empty() && mix.includes(Kind::Photo) {
            site.upload(&session)
                .await
                .map_err(|e| anyhow::anyhow!("uploading a first photo: {e}"))?;
            site.photo_ids = site.feed_photo_ids(client).await?;
        }
        Ok(site)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn csrf_token(&self, client: &Client, path: &str) -> anyhow::Result<String> {
        let response = client.get(self.url(path)).send().await?;
        let status = response.status();
        let html = response.text().await?;
        csrf_in(&html).with_context(|| format!("no form token on {path} (HTTP {status})"))
    }

    async fn feed_photo_ids(&self, client: &Client) -> anyhow::Result<Vec<String>> {
        let html = client.get(self.url("/")).send().await?.text().await?;
        Ok(photo_ids_in(&html))
    }

    /// `n` sessions, logged in as the test user when the mix uploads (which
    /// needs a login) or `--log-in` asks. Made before the clock starts, so
    /// their logins are not part of the measurement.
    pub async fn sessions(
        &self,
        n: usize,
        options: &super::Options,
    ) -> anyhow::Result<Vec<Session>> {
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let session = Session::new();
            if options.log_in || options.mix.includes(Kind::Upload) {
                let logged_in = self.login(&session).await;
                // Uploads that fail show up as errors in the report; a run
                // asked to be logged in cannot start without it.
                if let (true, Err(why)) = (options.log_in, logged_in) {
                    bail!(
                        "could not log the load test's clients in at {}: {why}",
                        self.base
                    );
                }
            }
            sessions.push(session);
        }
        Ok(sessions)
    }

    async fn login(&self, session: &Session) -> Result<Response, String> {
        let client = &session.http;
        let token = self
            .csrf_token(client, "/login")
            .await
            .map_err(|e| format!("{e:#}"))?;
        let fields = [
            ("csrf_token", token.as_str()),
            ("username", &self.username),
            ("password", PASSWORD),
        ];
        let response = client
            .post(self.url("/login"))
            .form(&fields)
            .send()
            .await
            .map_err(kind_of)?;
        session.remember(self, &[]);
        expect(response, StatusCode::SEE_OTHER)
    }

    async fn upload(&self, session: &Session) -> Result<Response, String> {
        let client = &session.http;
        let token = self
            .csrf_token(client, "/upload")
            .await
            .map_err(|e| format!("{e:#}"))?;
        let part = reqwest::multipart::Part::bytes(small_png())
            .file_name("loadtest.png")
            .mime_str("image/png")
            .expect("a valid type");
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("caption", "load test")
            .part("photo", part);
        let response = client
            .post(self.url("/upload"))
            .multipart(form)
            .send()
            .await
            .map_err(kind_of)?;
        session.remember(self, &[]);
        expect(response, StatusCode::SEE_OTHER)
    }

    /// The path a GET of `kind` fetches (`pick` chooses the photo).
    fn path_of(&self, kind: Kind, pick: usize) -> String {
        match kind {
            Kind::Photo if !self.photo_ids.is_empty() => {
                format!("/photos/{}", self.photo_ids[pick % self.photo_ids.len()])
            }
            Kind::Get => self.fixed_path.clone().unwrap_or_else(|| "/".into()),
            _ => "/".into(),
        }
    }

    /// Sends one request of `kind` for `session`, on `connection` when it
    /// is a plain GET (opening one when there is none, dropping it when it
    /// fails). Ok(instance that answered) or Err(error kind).
    pub async fn perform(
        &self,
        session: &Session,
        connection: &mut Option<Connection>,
        kind: Kind,
        pick: usize,
    ) -> Result<Option<String>, String> {
        let response = match kind {
            Kind::Login => self.login(session).await?,
            Kind::Upload => self.upload(session).await?,
            Kind::Feed | Kind::Photo | Kind::Get => {
                let path = self.path_of(kind, pick);
                return match &self.target {
                    Some(target) => self.get_direct(target, session, connection, &path).await,
                    None => self.get_through_reqwest(session, &path).await,
                };
            }
        };
        let instance = instance_of(&response);
        // The whole body counts (as for a browser), and a read body lets the
        // connection be reused.
        response.bytes().await.map_err(kind_of)?;
        Ok(instance)
    }

    async fn get_direct(
        &self,
        target: &Target,
        session: &Session,
        connection: &mut Option<Connection>,
        path: &str,
    ) -> Result<Option<String>, String> {
        let work = async {
            if connection.is_none() {
                *connection = Some(Connection::open(target).await?);
            }
            let open = connection.as_mut().expect("opened above");
            open.get(target, path, session.cookie()).await
        };
        let answer = match tokio::time::timeout(TIMEOUT, work).await {
            Ok(Ok(answer)) => {
                if connection.as_ref().is_some_and(|c| !c.is_reusable()) {
                    *connection = None;
                }
                answer
            }
            Ok(Err(failure)) => {
                *connection = None;
                return Err(match failure {
                    Failure::Connect => "connection refused or reset".into(),
                    Failure::Broken => "connection error".into(),
                });
            }
            Err(_) => {
                *connection = None;
                return Err("timeout".into());
            }
        };
        if !answer.set_cookies.is_empty() {
            session.remember(self, &answer.set_cookies);
        }
        if answer.status != 200 {
            return Err(format!("http {}", answer.status));
        }
        Ok(answer.instance)
    }

    async fn get_through_reqwest(
        &self,
        session: &Session,
        path: &str,
    ) -> Result<Option<String>, String> {
        let response = session
            .http
            .get(self.url(path))
            .send()
            .await
            .map_err(kind_of)?;
        let response = expect(response, StatusCode::OK)?;
        let instance = instance_of(&response);
        response.bytes().await.map_err(kind_of)?;
        Ok(instance)
    }
}

fn instance_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get("x-instance-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads (and so completes) the response; an unexpected status is an error.
fn expect(response: Response, wanted: StatusCode) -> Result<Response, String> {
    if response.status() == wanted {
        Ok(response)
    } else {
        Err(format!("http {}", response.status().as_u16()))
    }
}

fn kind_of(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused or reset".into()
    } else {
        "connection error".into()
    }
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

fn photo_ids_in(html: &str) -> Vec<String> {
    html.match_indices("href=\"/photos/")
        .filter_map(|(at, m)| html.get(at + m.len()..at + m.len() + 32))
        .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// A small PNG with a random pixel, so no two uploads are the same.
fn small_png() -> Vec<u8> {
    let mut rng = rand::thread_rng();
    let image =
        image::RgbImage::from_fn(16, 16, |_, _| image::Rgb([rng.gen(), rng.gen(), rng.gen()]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("a PNG encodes");
    bytes.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_feeds_are_read_like_a_browser() {
        let html = r#"<input type="hidden" name="csrf_token" value="abc-123"><a href="/photos/0123456789abcdef0123456789abcdef">x</a><a href="/photos/nothex">y</a>"#;
        assert_eq!(csrf_in(html).as_deref(), Some("abc-123"));
        assert_eq!(photo_ids_in(html), ["0123456789abcdef0123456789abcdef"]);
        assert!(small_png().starts_with(b"\x89PNG"));
    }
}
