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

/// RDS states an instance does not leave by itself (DescribeDBInstances).
pub const RDS_TERMINAL: &[&str] = &[
    "failed",
    "inaccessible-encryption-credentials",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-parameters",
    "incompatible-restore",
    "storage-full",
];
/// ElastiCache states a cluster does not leave by itself.
pub const CACHE_TERMINAL: &[&str] = &["create-failed", "incompatible-network", "restore-failed"];

/// An error for `resource` in `status` when that status is terminal, so a
/// wait stops at once instead of taking a failure for "not yet" until its
/// deadline (40 minutes for a database).
pub fn refuse_terminal(resource: &str, status: &str, terminal: &[&str]) -> Result<(), AwsError> {
    if !terminal.contains(&status) {
        return Ok(());
    }
    Err(AwsError::Invalid(format!(
        "{resource} is in state {status:?}, which it does not leave by itself\n  fix: see its events in the AWS console; `photoscale infra down --target aws` removes it, then `infra up` makes a new one"
    )))
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

    #[test]
    fn a_terminal_state_ends_the_wait_with_its_name() {
        assert!(refuse_terminal("RDS instance x", "creating", RDS_TERMINAL).is_ok());
        assert!(refuse_terminal("RDS instance x", "available", RDS_TERMINAL).is_ok());
        let error = refuse_terminal("RDS instance x", "failed", RDS_TERMINAL).unwrap_err();
        assert!(error
            .to_string()
            .contains("RDS instance x is in state \"failed\""));
        assert!(refuse_terminal("cluster y", "create-failed", CACHE_TERMINAL).is_err());
    }

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
