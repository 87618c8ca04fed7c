//! Fills a fresh photoscale with a realistic data set through its own forms,
//! as browsers would: users sign up, then upload photos.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Client, StatusCode};

pub const PASSWORD: &str = "bench password 1";

pub fn username(n: usize) -> String {
    format!("bench-user-{n:02}")
}

/// A browser: its own cookie jar, redirects not followed.
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
    base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a client builds");
        Self {
            client,
            jar,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The same browser (cookies and all) visiting another server.
    pub fn visiting(&self, base: &str) -> Self {
        Self {
            client: self.client.clone(),
            jar: self.jar.clone(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The form token on `path`'s page.
    async fn csrf_token(&self, path: &str) -> anyhow::Result<String> {
        let html = self.client.get(self.url(path)).send().await?.text().await?;
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).context("no form token")? + marker.len();
        let end = html[start..].find('"').context("no form token end")?;
        Ok(html[start..start + end].to_owned())
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<()> {
        let token = self.csrf_token(path).await?;
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        let response = self.client.post(self.url(path)).form(&form).send().await?;
        expect_redirect(response, path).await
    }

    pub async fn register(&self, username: &str) -> anyhow::Result<()> {
        let fields = [
            ("username", username),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        self.post_form("/register", &fields).await
    }

    pub async fn log_in(&self, username: &str) -> anyhow::Result<()> {
        self.post_form("/login", &[("username", username), ("password", PASSWORD)])
            .await
    }

    /// Uploads `photo`; returns how long the POST itself took.
    pub async fn upload(&self, photo: &[u8], caption: &str) -> anyhow::Result<Duration> {
        let token = self.csrf_token("/upload").await?;
        let part = reqwest::multipart::Part::bytes(photo.to_vec())
            .file_name("photo.jpg")
            .mime_str("image/jpeg")?;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("caption", caption.to_owned())
            .part("photo", part);
        let started = std::time::Instant::now();
        let response = self
            .client
            .post(self.url("/upload"))
            .multipart(form)
            .send()
            .await?;
        let took = started.elapsed();
        expect_redirect(response, "/upload").await?;
        Ok(took)
    }

    /// The `Cookie:` header this browser sends, for wrk.
    pub fn cookie_header(&self) -> anyhow::Result<String> {
        let url = self.base.parse()?;
        let value = self.jar.cookies(&url).context("no cookie was set")?;
        Ok(format!("Cookie: {}", value.to_str()?))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.client.get(self.url(path)).send().await?)
    }
}

async fn expect_redirect(response: reqwest::Response, path: &str) -> anyhow::Result<()> {
    let status = response.status();
    if status != StatusCode::SEE_OTHER {
        let body = response.text().await.unwrap_or_default();
        let message = body
            .split("<p class=\"field-error\"")
            .nth(1)
            .unwrap_or(&body[..body.len().min(300)]);
        bail!("POST {path} answered {status}: {message}");
    }
    Ok(())
}

/// Registers `users` users and has them upload `photos` (in order, round
/// robin), `parallel` users at a time.
pub async fn seed(
    base: &str,
    users: usize,
    photos: &[PathBuf],
    parallel: usize,
) -> anyhow::Result<()> {
    let photos = Arc::new(photos.to_vec());
    let mut running = tokio::task::JoinSet::new();
    let mut next_user = 0;
    // Every user's uploads, in the order they were listed.
    let share = |user: usize| (user..photos.len()).step_by(users).collect::<Vec<_>>();
    loop {
        while running.len() < parallel && next_user < users {
            let (base, photos, mine) = (base.to_owned(), photos.clone(), share(next_user));
            let name = username(next_user);
            running.spawn(async move {
                let browser = Browser::new(&base);
                browser
                    .register(&name)
                    .await
                    .with_context(|| format!("registering {name}"))?;
                for index in mine {
                    let bytes = tokio::fs::read(&photos[index]).await?;
                    let caption = format!("Bench photo {index}");
                    browser
                        .upload(&bytes, &caption)
                        .await
                        .with_context(|| format!("{name} uploading {}", photos[index].display()))?;
                }
                anyhow::Ok(())
            });
            next_user += 1;
        }
        match running.join_next().await {
            Some(done) => done??,
            None => return Ok(()),
        }
    }
}
