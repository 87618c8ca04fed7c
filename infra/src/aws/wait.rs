//! Waiting for AWS: look again every few seconds until a check says done,
//! showing what is waited for, and give up with a clear error at a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use super::error::AwsError;
use crate::progress::Step;

/// Calls `check` until it returns `Some`, at most for `timeout`.
pub async fn until<T, F, Fut>(
    step: &Step,
    what: &str,
    timeout: Duration,
    poll: Duration,
    mut check: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, AwsError>>,
{
    step.waiting(what);
    let started = Instant::now();
    loop {
        if let Some(done) = check().await? {
            return Ok(done);
        }
        if started.elapsed() >= timeout {
            return Err(AwsError::Timeout {
                what: what.to_owned(),
                after: timeout,
            });
        }
        tokio::time::sleep(poll.min(timeout.saturating_sub(started.elapsed()))).await;
    }
}
