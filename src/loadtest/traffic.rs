//! The requests themselves: a test user registered at the start, clients
//! that behave like browsers (cookies, CSRF tokens from the forms), and the
//! closed- and open-loop drivers that send the mix.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use reqwest::{Client, Response, StatusCode};
use tokio::sync::mpsc::UnboundedSender;

use super::mix::{Kind, Mix};
use super::stats::Sample;

const PASSWORD: &str = "loadtest password 1";

/// What every request needs to know about the site under test.
pub struct Site {
    base: String,
    username: String,
    photo_ids: Vec<String>,
    /// What `Kind::Get` fetches (`--path`).
    fixed_path: Option<String>,
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client builds")
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
        let client = browser();
        let username = format!(
            "loadtest-{:06x}",
            rand::thread_rng().gen::<u32>() & 0xff_ffff
        );
        let mut site = Self {
            base,
            username,
            photo_ids: Vec::new(),
            fixed_path,
        };
        let token = site.csrf_token(&client, "/register").await?;
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
        site.photo_ids = site.feed_photo_ids(&client).await?;
        if site.photo_ids.is_empty() && mix.includes(Kind::Photo) {
            site.upload(&client)
                .await
                .map_err(|e| anyhow::anyhow!("uploading a first photo: {e}"))?;
            site.photo_ids = site.feed_photo_ids(&client).await?;
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

    /// `n` clients, each with its own session, logged in as the test user
    /// when the mix uploads (which needs a login) or `--log-in` asks. Made
    /// before the clock starts, so their logins are not part of the
    /// measurement.
    pub async fn clients(&self, n: usize, options: &super::Options) -> anyhow::Result<Vec<Client>> {
        let mut clients = Vec::with_capacity(n);
        for _ in 0..n {
            let client = browser();
            if options.log_in || options.mix.includes(Kind::Upload) {
                let logged_in = self.login(&client).await;
                // Uploads that fail show up as errors in the report; a run
                // asked to be logged in cannot start without it.
                if let (true, Err(why)) = (options.log_in, logged_in) {
                    bail!(
                        "could not log the load test's clients in at {}: {why}",
                        self.base
                    );
                }
            }
            clients.push(client);
        }
        Ok(clients)
    }

    async fn login(&self, client: &Client) -> Result<Response, String> {
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
        expect(response, StatusCode::SEE_OTHER)
    }

    async fn upload(&self, client: &Client) -> Result<Response, String> {
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
        expect(response, StatusCode::SEE_OTHER)
    }

    /// Sends one request of `kind`: Ok(instance that answered) or Err(error kind).
    async fn perform(
        &self,
        client: &Client,
        kind: Kind,
        pick: usize,
    ) -> Result<Option<String>, String> {
        let response = match kind {
            Kind::Photo if !self.photo_ids.is_empty() => {
                let id = &self.photo_ids[pick % self.photo_ids.len()];
                let response = client
                    .get(self.url(&format!("/photos/{id}")))
                    .send()
                    .await
                    .map_err(kind_of)?;
                expect(response, StatusCode::OK)?
            }
            Kind::Feed | Kind::Photo => {
                let response = client.get(self.url("/")).send().await.map_err(kind_of)?;
                expect(response, StatusCode::OK)?
            }
            Kind::Get => {
                let path = self.fixed_path.as_deref().unwrap_or("/");
                let response = client.get(self.url(path)).send().await.map_err(kind_of)?;
                expect(response, StatusCode::OK)?
            }
            Kind::Login => self.login(client).await?,
            Kind::Upload => self.upload(client).await?,
        };
        let instance = response
            .headers()
            .get("x-instance-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The whole body counts (as for a browser), and a read body lets the
        // connection be reused.
        response.bytes().await.map_err(kind_of)?;
        Ok(instance)
    }
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

async fn send_one(
    site: &Site,
    client: &Client,
    kind: Kind,
    pick: usize,
    due: Instant,
    start: Instant,
) -> Sample {
    let result = site.perform(client, kind, pick).await;
    let finished = start.elapsed();
    let (instance, error) = match result {
        Ok(instance) => (instance, None),
        Err(error) => (None, Some(error)),
    };
    Sample {
        finished,
        latency: due.elapsed(),
        kind,
        error,
        instance,
    }
}

/// `concurrency` clients, each sending its next request when the last ends.
pub async fn closed_loop(
    site: Arc<Site>,
    mix: Mix,
    clients: Vec<Client>,
    start: Instant,
    deadline: Instant,
    samples: UnboundedSender<Sample>,
) -> anyhow::Result<()> {
    let mut workers = Vec::new();
    for (worker, client) in clients.into_iter().enumerate() {
        let (site, mix, samples) = (site.clone(), mix.clone(), samples.clone());
        workers.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(worker as u64);
            while Instant::now() < deadline {
                let kind = mix.pick(&mut rng);
                let sample = send_one(&site, &client, kind, rng.gen(), Instant::now(), start).await;
                if samples.send(sample).is_err() {
                    return;
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    Ok(())
}

/// `rate` requests a second, each due at its own time whatever the server
/// does; its latency counts from when it was due.
pub async fn open_loop(
    site: Arc<Site>,
    mix: Mix,
    rate: u32,
    clients: Vec<Client>,
    start: Instant,
    deadline: Instant,
    samples: UnboundedSender<Sample>,
) -> anyhow::Result<()> {
    let clients = Arc::new(clients);
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut ticker = tokio::time::interval_at(start.into(), interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut rng = rand::rngs::StdRng::from_entropy();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut n = 0usize;
    loop {
        let due = ticker.tick().await.into_std();
        if due >= deadline {
            break;
        }
        let (site, clients, samples) = (site.clone(), clients.clone(), samples.clone());
        let (kind, pick) = (mix.pick(&mut rng), rng.gen());
        n += 1;
        let client_index = n % clients.len();
        in_flight.spawn(async move {
            let sample = send_one(&site, &clients[client_index], kind, pick, due, start).await;
            let _ = samples.send(sample);
        });
        // Reap finished tasks so the set does not grow without bound.
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
    Ok(())
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
