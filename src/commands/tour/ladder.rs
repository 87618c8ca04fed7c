//! Levels 0 to 2 of the tour: one server; two servers broken (per-instance
//! sessions and photo directories), then fixed; photos in the S3 server.
//! Every claim is counted over real requests through the load balancer.

use super::outcome::Outcome;
use super::stack::TourStack;
use super::visitor::Visitor;

/// Requests each check makes, so that round-robin shows both instances.
const TRIES: usize = 20;

pub async fn level_0(stack: &TourStack) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::new("level 0: one server");
    stack.up(0, &[]).await?;
    let ada = Visitor::new(&stack.url())?;
    ada.sign_up("ada").await?;
    let id = ada
        .upload(crate::commands::tour::png(), "The first photo")
        .await?;
    let (_, feed) = ada.get("/").await?;
    outcome.check(
        feed.contains(&format!("/photos/{id}")),
        format!(
            "ada signed up and uploaded a photo; the feed at {} shows it",
            stack.url()
        ),
    );
    Ok(outcome)
}

pub async fn level_1_broken(stack: &TourStack) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::new("level 1, broken: per-instance sessions and photo directories");
    stack
        .up(1, &["--sessions", "memory", "--storage", "local"])
        .await?;
    let ada = Visitor::new(&stack.url())?;
    ada.log_in("ada").await?;
    let logged_in = count_logged_in(&ada).await?;
    outcome.check(
        logged_in < TRIES,
        format!(
            "logged in once, ada's next {TRIES} pages were hers on {logged_in} and a stranger's on {}: the session lives in one instance's memory",
            TRIES - logged_in
        ),
    );
    let id = upload_somewhere(&ada).await?;
    let missing = count_missing_image(&ada, &id).await?;
    outcome.check(
        missing > 0,
        format!(
            "a new photo's image was missing on {missing} of {TRIES} requests: it is on the disk of the instance that took the upload"
        ),
    );
    Ok(outcome)
}

pub async fn level_1_fixed(stack: &TourStack) -> anyhow::Result<Outcome> {
    let mut outcome =
        Outcome::new("level 1, fixed: shared sessions (memcached) and a shared directory");
    stack.up(1, &[]).await?;
    let ada = Visitor::new(&stack.url())?;
    ada.log_in("ada").await?;
    let logged_in = count_logged_in(&ada).await?;
    outcome.check(
        logged_in == TRIES,
        format!(
            "ada's session held on {logged_in} of {TRIES} pages, whichever instance served them"
        ),
    );
    let id = ada
        .upload(crate::commands::tour::png(), "Shared at last")
        .await?;
    let missing = count_missing_image(&ada, &id).await?;
    outcome.check(
        missing == 0,
        format!("the new photo's image was missing on {missing} of {TRIES} requests"),
    );
    Ok(outcome)
}

pub async fn level_2(stack: &TourStack) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::new("level 2: photos in the S3 server");
    stack.up(2, &[]).await?;
    let ada = Visitor::new(&stack.url())?;
    ada.log_in("ada").await?;
    let id = ada
        .upload(crate::commands::tour::png(), "In the bucket")
        .await?;
    let url = ada.image_url(&id).await?;
    let bucket = format!("http://127.0.0.1:{}/photos/", stack.port + 13);
    outcome.check(
        url.starts_with(&bucket) && url.contains("X-Amz-Signature="),
        format!(
            "the photo's image link now points at the bucket, signed for a while: {}...",
            &url[..url.len().min(80)]
        ),
    );
    let status = ada.fetch_status(&url).await;
    outcome.check(
        status == 200,
        format!("the browser gets it from the S3 server directly: HTTP {status}"),
    );
    let unsigned = url.split('?').next().unwrap_or(&url).to_owned();
    let refused = ada.fetch_status(&unsigned).await;
    outcome.check(
        refused == 403,
        format!("without its signature the S3 server refuses it: HTTP {refused}"),
    );
    Ok(outcome)
}

async fn count_logged_in(visitor: &Visitor) -> anyhow::Result<usize> {
    let mut logged_in = 0;
    for _ in 0..TRIES {
        if visitor.is_logged_in().await? {
            logged_in += 1;
        }
    }
    Ok(logged_in)
}

/// With per-instance sessions every step of an upload must reach the
/// instance that holds the session, and a members-only page reached on the
/// other one ends the session there. Round-robin alternates, so a front
/// page (harmless anywhere) between the steps keeps them on one instance:
/// log in (X), front page (Y), the form (X), front page (Y), the POST (X).
async fn upload_somewhere(visitor: &Visitor) -> anyhow::Result<String> {
    let mut last = None;
    for _ in 0..4 {
        // A fresh browser: no session that lives on the other instance.
        let visitor = Visitor::new(&visitor.url(""))?;
        let attempt = async {
            visitor.log_in("ada").await?;
            visitor.get("/").await?;
            let token = visitor.upload_token().await?;
            visitor.get("/").await?;
            visitor
                .post_upload(token, crate::commands::tour::png(), "Where is it?")
                .await
        };
        match attempt.await {
            Ok(id) => return Ok(id),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no upload went through")))
}

/// The photo's image fetched `TRIES` times in a row (round-robin sends
/// every other one to the other instance).
async fn count_missing_image(visitor: &Visitor, id: &str) -> anyhow::Result<usize> {
    let mut url = None;
    for _ in 0..4 {
        if let Ok(found) = visitor.image_url(id).await {
            url = Some(found);
            break;
        }
    }
    let url = url.ok_or_else(|| anyhow::anyhow!("photo {id}'s page could not be read"))?;
    let mut missing = 0;
    for _ in 0..TRIES {
        if visitor.fetch_status(&url).await != 200 {
            missing += 1;
        }
    }
    Ok(missing)
}
