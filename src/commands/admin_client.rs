//! The client side of `/admin/latency`, for `photoscale latency get|set`.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::StatusCode;

use crate::routes::admin::LatencyReport;

pub struct AdminClient {
    http: reqwest::Client,
    base: url::Url,
    token: String,
}

impl AdminClient {
    pub fn new(base_url: &str, token: String) -> anyhow::Result<Self> {
        let base = url::Url::parse(base_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| {
                format!("--url {base_url:?} is not an http(s) URL; use e.g. http://127.0.0.1:8080")
            })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { http, base, token })
    }

    pub async fn get_latency(&self) -> anyhow::Result<LatencyReport> {
        let request = self.http.get(self.endpoint());
        self.send(request).await
    }

    pub async fn set_latency(&self, latency: Duration) -> anyhow::Result<LatencyReport> {
        let body = serde_json::json!({ "latency_ms": latency.as_millis() as u64 });
        let request = self.http.put(self.endpoint()).json(&body);
        self.send(request).await
    }

    fn endpoint(&self) -> url::Url {
        self.base
            .join("/admin/latency")
            .expect("a fixed path always joins")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<LatencyReport> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach {}; is photoscale running there?", self.base))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json()
                .await
                .with_context(|| format!("{} did not answer like photoscale", self.base));
        }
        let message = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        match status {
            StatusCode::UNAUTHORIZED => bail!(
                "{} refused the admin token: {message}\n  fix: pass the instance's admin.token with --token or PHOTOSCALE_ADMIN__TOKEN",
                self.base
            ),
            _ => bail!("{} answered {status}: {message}", self.base),
        }
    }
}

/// Sets the simulated latency of instance `instance` (or, for None, of
/// every instance) of the local stack in `state_dir`, through each one's
/// `/admin/latency` with the stack's admin token. Returns the ids it set.
pub async fn set_stack_latency(
    state_dir: &std::path::Path,
    instance: Option<&str>,
    latency: Duration,
) -> anyhow::Result<Vec<String>> {
    let dir = state_dir.to_owned();
    // The stack's state is a file: read off the runtime.
    let stack =
        tokio::task::spawn_blocking(move || photoscale_infra::local::instance_endpoints(&dir))
            .await??;
    let targets: Vec<_> = stack
        .instances
        .iter()
        .filter(|(id, _)| instance.is_none_or(|want| want == id))
        .collect();
    if targets.is_empty() {
        let known: Vec<&str> = stack.instances.iter().map(|(id, _)| id.as_str()).collect();
        bail!(
            "the stack has no instance {}; it runs {}",
            instance.unwrap_or("at all"),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        );
    }
    for (_, address) in &targets {
        let client = AdminClient::new(&format!("http://{address}"), stack.admin_token.clone())?;
        client.set_latency(latency).await?;
    }
    Ok(targets.into_iter().map(|(id, _)| id.clone()).collect())
}
