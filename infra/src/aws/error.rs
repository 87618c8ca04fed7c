//! Errors of the AWS provider. A failed AWS call says which operation on
//! which resource failed, with AWS's error code and a hint for the common
//! causes.

use std::time::Duration;

use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("{operation} on {resource} failed: {code}: {message}{hint}")]
    Api {
        operation: &'static str,
        resource: String,
        code: String,
        message: String,
        hint: String,
    },
    #[error("gave up after {} waiting for {what}\n  fix: see the resource in the AWS console; run `photoscale infra up --target aws` again to resume, or `infra down --target aws` to remove the stack", humantime(*after))]
    Timeout { what: String, after: Duration },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot use the state file {path}: {source}")]
    State {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

fn humantime(d: Duration) -> String {
    match d.as_secs() {
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Turns an SDK error into `AwsError::Api` for `operation` on `resource`.
pub fn api<E, R>(
    operation: &'static str,
    resource: impl Into<String>,
) -> impl FnOnce(SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |error| {
        let resource = resource.into();
        let (code, message) = match (error.code(), error.message()) {
            (Some(code), message) => (code.to_owned(), message.unwrap_or("").to_owned()),
            // No answer from AWS at all: the connection, credentials or region.
            (None, _) => (
                "NoResponse".to_owned(),
                DisplayErrorContext(&error).to_string(),
            ),
        };
        let hint = hint(&code, &message, operation);
        AwsError::Api {
            operation,
            resource,
            code,
            message,
            hint,
        }
    }
}

/// The AWS error code of `error`, if AWS answered.
pub fn code_of<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error.code()
}

/// What to do about the common failures.
fn hint(code: &str, message: &str, operation: &str) -> String {
    let fix = if code.contains("AccessDenied") || code.contains("Unauthorized") {
        format!("the credentials in use may not call {operation}; use a profile whose policy allows it (--profile), see the README's \"AWS permissions\"")
    } else if code.contains("LimitExceeded") || code.contains("QuotaExceeded") {
        "an account quota is reached; delete unused resources or ask for more in the Service Quotas console".to_owned()
    } else if code.starts_with("InvalidAMIID") {
        "the AMI does not exist in this region or is not available to this account; pass --ami with an AMI of this region, or leave --ami out to look up the latest one".to_owned()
    } else if code == "NoResponse" && message.contains("credentials") {
        "no AWS credentials were found; set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned()
    } else if code == "NoResponse" {
        "AWS could not be reached; check --region, --endpoint-url and the network".to_owned()
    } else if code.contains("InvalidClientTokenId")
        || code.contains("AuthFailure")
        || code.contains("SignatureDoesNotMatch")
    {
        "the credentials are not valid for this account or region; check the profile (--profile) or AWS_ACCESS_KEY_ID".to_owned()
    } else {
        return String::new();
    };
    format!("\n  fix: {fix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_get_a_hint() {
        assert!(
            hint("UnauthorizedOperation", "", "RunInstances").contains("may not call RunInstances")
        );
        assert!(hint("AccessDenied", "", "CreateBucket").contains("--profile"));
        assert!(hint("InstanceLimitExceeded", "", "RunInstances").contains("quota"));
        assert!(hint("VcpuLimitExceeded", "", "RunInstances").contains("quota"));
        assert!(hint("InvalidAMIID.NotFound", "", "RunInstances").contains("--ami"));
        assert!(hint("NoResponse", "failed to load credentials", "X").contains("AWS_PROFILE"));
        assert_eq!(hint("SomethingRare", "", "X"), "");
    }
}
