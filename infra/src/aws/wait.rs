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

/// Ends a progress step with the result's outcome.
pub fn finish<T: std::fmt::Display>(
    step: Step,
    result: Result<T, AwsError>,
) -> Result<T, AwsError> {
    match &result {
        Ok(done) => step.done(&done.to_string()),
        Err(e) => step.failed(&e.to_string()),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Progress;

    #[tokio::test]
    async fn gives_up_at_the_deadline_saying_what_it_waited_for() {
        let step = Progress::new().step("test", "waiting");
        let mut looks = 0;
        let result: Result<(), AwsError> = until(
            &step,
            "the thing to be ready",
            Duration::from_millis(50),
            Duration::from_millis(10),
            || {
                looks += 1;
                async { Ok(None) }
            },
        )
        .await;
        let error = result.unwrap_err().to_string();
        assert!(
            error.contains("waiting for the thing to be ready"),
            "{error}"
        );
        assert!(
            error.contains("run `photoscale infra up --target aws` again"),
            "{error}"
        );
        assert!(looks >= 3, "looked {looks} times");
    }

    #[tokio::test]
    async fn returns_as_soon_as_the_check_says_done() {
        let step = Progress::new().step("test", "waiting");
        let mut looks = 0;
        let done = until(
            &step,
            "x",
            Duration::from_secs(60),
            Duration::from_millis(1),
            || {
                looks += 1;
                let ready = looks == 2;
                async move { Ok(ready.then_some(42)) }
            },
        )
        .await
        .unwrap();
        assert_eq!((done, looks), (42, 2));
    }
}
