//! IAM is eventually consistent: a role or instance profile made seconds
//! ago can be unknown to EC2 and Auto Scaling for a while (AWS documents
//! "a few seconds", and minutes happen). The calls that name the profile
//! retry that one refusal until a deadline; any other error ends at once.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::AwsError;

/// Whether `error` is EC2 or Auto Scaling not seeing the instance profile
/// yet: RunInstances answers `InvalidParameterValue ... iamInstanceProfile
/// ... is invalid`, CreateAutoScalingGroup `ValidationError ... You must
/// use a valid fully-formed launch template ... iamInstanceProfile`.
pub fn is_unseen_profile(error: &AwsError) -> bool {
    match error {
        AwsError::Api { code, message, .. } => {
            matches!(code.as_str(), "InvalidParameterValue" | "ValidationError")
                && message.to_ascii_lowercase().contains("iaminstanceprofile")
        }
        _ => false,
    }
}

/// Runs `call` until it succeeds, fails otherwise, or `deadline` passes
/// while the profile is still unseen (then that last error is returned).
pub async fn retry<T, F, Fut>(deadline: Duration, mut call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_secs(1);
    loop {
        match call().await {
            Err(e) if is_unseen_profile(&e) && started.elapsed() + pause < deadline => {
                tracing::info!(error = %e, "the new instance profile has not reached the service yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn api(code: &str, message: &str) -> AwsError {
        AwsError::Api {
            operation: "CreateAutoScalingGroup",
            resource: "photoscale-demo".into(),
            code: code.into(),
            message: message.into(),
            hint: String::new(),
        }
    }

    fn unseen() -> AwsError {
        api(
            "ValidationError",
            "You must use a valid fully-formed launch template. Value (arn:aws:iam::1:instance-profile/p) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN",
        )
    }

    #[test]
    fn only_the_unseen_profile_is_retried() {
        assert!(is_unseen_profile(&unseen()));
        assert!(is_unseen_profile(&api(
            "InvalidParameterValue",
            "Value (photoscale-demo-app-eu-west-1) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
        )));
        assert!(!is_unseen_profile(&api(
            "ValidationError",
            "MaxSize must be >= MinSize"
        )));
        assert!(!is_unseen_profile(&api(
            "AccessDenied",
            "iamInstanceProfile"
        )));
        assert!(!is_unseen_profile(&AwsError::Invalid(
            "iamInstanceProfile".into()
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_the_profile_is_seen() {
        let calls = AtomicU32::new(0);
        let result = retry(Duration::from_secs(60), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Err(unseen()),
                _ => Ok("made"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "made");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_with_the_last_error() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retry(Duration::from_secs(30), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(unseen())
        })
        .await;
        assert!(is_unseen_profile(&result.unwrap_err()));
        assert!(started.elapsed() <= Duration::from_secs(30));
        assert!(
            calls.load(Ordering::SeqCst) >= 4,
            "1+2+4+8+10 s of pauses fit in 30 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_end_at_once() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(Duration::from_secs(60), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api("ValidationError", "MaxSize must be >= MinSize"))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
