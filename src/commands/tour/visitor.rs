//! A visitor of the stack, as a browser would be: its own cookies, the
//! forms with their CSRF tokens, the feed and the photos' image links.

use anyhow::Context;

/// The password every tour account uses (long enough for the rules).
pub const PASSWORD: &str = "tour of the ladder";

pub struct Visitor {
    base: String,
    client: reqwest::Client,
}

impl Visitor {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The page at `path` (following no redirect), with its status.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let response = self.client.get(self.url(path)).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    }

    /// Any URL (an image on the S3 server, say): its status.
    pub async fn fetch_status(&self, url: &str) -> u16 {
        match self.client.get(url).send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    async fn token(&self, path: &str) -> anyhow::Result<String> {
        let (_, page) = self.get(path).await?;
        csrf_in(&page).with_context(|| format!("no form token on {path}"))
    }

    /// Fills the form on `path` (its token included) and posts it; the status.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<u16> {
        let token = self.token(path).await?;
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        let response = self.client.post(self.url(path)).form(&form).send().await?;
        Ok(response.status().as_u16())
    }

    /// Signs up (which logs in); a taken name is not an error for the tour.
    pub async fn sign_up(&self, username: &str) -> anyhow::Result<()> {
        let fields = [
            ("username", username),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        match self.submit("/register", &fields).await? {
            303 => Ok(()),
            _ => self.log_in(username).await,
        }
    }

    pub async fn log_in(&self, username: &str) -> anyhow::Result<()> {
        let fields = [("username", username), ("password", PASSWORD)];
        let status = self.submit("/login", &fields).await?;
        anyhow::ensure!(
            status == 303,
            "logging in as {username} answered HTTP {status}"
        );
        Ok(())
    }

    /// Uploads `png`; returns the new photo's id.
    pub async fn upload(&self, png: Vec<u8>, caption: &str) -> anyhow::Result<String> {
        let token = self.upload_token().await?;
        self.post_upload(token, png, caption).await
    }

    /// The upload form's token (the form is for members only).
    pub async fn upload_token(&self) -> anyhow::Result<String> {
        self.token("/upload").await
    }

    /// Posts the upload form with `token`; returns the new photo's id.
    pub async fn post_upload(
        &self,
        token: String,
        png: Vec<u8>,
        caption: &str,
    ) -> anyhow::Result<String> {
        let part = reqwest::multipart::Part::bytes(png)
            .file_name("tour.png")
            .mime_str("image/png")?;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("caption", caption.to_owned())
            .part("photo", part);
        let response = self
            .client
            .post(self.url("/upload"))
            .multipart(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        let id = response
            .headers()
            .get("x-photo-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (status, id) {
            (303, Some(id)) => Ok(id),
            _ => anyhow::bail!(
                "the upload answered {status}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }

    /// True when the front page says this visitor is logged in.
    pub async fn is_logged_in(&self) -> anyhow::Result<bool> {
        Ok(self.get("/").await?.1.contains("Logged in as"))
    }

    /// The image URL of photo `id`'s page.
    pub async fn image_url(&self, id: &str) -> anyhow::Result<String> {
        let (status, page) = self.get(&format!("/photos/{id}")).await?;
        anyhow::ensure!(status == 200, "the photo's page answered {status}");
        let src = image_src_in(&page).context("the photo's page has no image")?;
        Ok(if src.starts_with('/') {
            self.url(&src)
        } else {
            src
        })
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    attribute_after(html, r#"name="csrf_token" value=""#)
}

/// The first `<img src>` of a photo page, HTML entities undone.
pub fn image_src_in(html: &str) -> Option<String> {
    let main = html.find("<main").map_or(html, |at| &html[at..]);
    attribute_after(main, r#"<img src=""#).map(|s| unescape(&s))
}

/// Undoes the HTML escaping of an attribute (the templates escape `/`,
/// `=` and `&` as character references).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn attribute_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_images_are_found() {
        let page = r#"<form><input type="hidden" name="csrf_token" value="abc"></form>
            <main><img src="http:&#x2F;&#x2F;s3&#x2F;photos&#x2F;a.jpg?X-Amz-Signature&#x3D;1&amp;b=2" width="3"></main>"#;
        assert_eq!(csrf_in(page).as_deref(), Some("abc"));
        assert_eq!(
            image_src_in(page).as_deref(),
            Some("http://s3/photos/a.jpg?X-Amz-Signature=1&b=2")
        );
        assert_eq!(csrf_in("<p>no form</p>"), None);
        assert_eq!(unescape("a &unknown; b &#47; c"), "a &unknown; b / c");
    }
}
