//! App delivery: `up` puts the program into the stack's private artifacts
//! bucket under its SHA-256, and the instances fetch exactly that object
//! with their role (which may read only that key). Nothing expires, as a
//! presigned URL would, and a rebuild is a new key and a new fingerprint.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;

use super::app_binary::{self, AppBinary};
use super::clients::Clients;
use super::error::{api, AwsError};
use super::iam::partition;
use super::AwsOptions;

/// The role policy letting instances read the app binary.
pub const APP_POLICY: &str = "photoscale-app-binary";

/// The role policy letting instances keep backups in the artifacts bucket
/// (levels 0 and 1, which have no photo bucket).
pub const BACKUPS_POLICY: &str = "photoscale-backups";

/// Read, write and delete under `backups/` only; list the bucket (the app
/// checks a bucket with HeadBucket, which needs s3:ListBucket).
pub fn backups_policy(region: &str, bucket: &str) -> String {
    super::iam::objects_policy(region, bucket, "backups/")
}

/// Where a program with this SHA-256 is kept in the artifacts bucket.
pub fn object_key(sha256: &str) -> String {
    format!("photoscale/{sha256}")
}

/// Read that one object, nothing else of the bucket.
pub fn read_policy(region: &str, bucket: &str, key: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("arn:{}:s3:::{bucket}/{key}", partition(region))
        }]
    })
    .to_string()
}

/// `options` with the app's SHA-256 filled in, and the binary to upload
/// when `up` delivers it. `--app-url` needs `--app-sha256`: the hash, not
/// the URL, says which program the fleet runs.
pub fn resolve(options: &AwsOptions) -> Result<(AwsOptions, Option<AppBinary>), AwsError> {
    let mut resolved = options.clone();
    match (&options.app.url, &options.app.binary) {
        (Some(_), _) if options.app.sha256.is_none() => Err(AwsError::Invalid(
            "--app-url needs --app-sha256: the instances check the download against it, and it says which program the fleet runs\n  fix: pass --app-sha256 $(sha256sum target/release/photoscale | cut -d' ' -f1), or leave --app-url out and let `up` deliver the binary".into(),
        )),
        (Some(_), _) => Ok((resolved, None)),
        (None, Some(path)) => {
            let binary = app_binary::inspect(path)?;
            resolved.app.sha256 = Some(binary.sha256.clone());
            Ok((resolved, Some(binary)))
        }
        (None, None) => Err(AwsError::Invalid(
            "no app to deliver: this photoscale is not a Linux x86_64 build, so it cannot send itself\n  fix: pass --app-binary with a Linux x86_64 release build, or --app-url and --app-sha256".into(),
        )),
    }
}

/// Uploads `binary` unless the bucket already has it.
pub async fn upload(clients: &Clients, bucket: &str, binary: &AppBinary) -> Result<(), AwsError> {
    let key = object_key(&binary.sha256);
    if clients
        .s3
        .head_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let body = ByteStream::from_path(&binary.path)
        .await
        .map_err(|e| AwsError::Invalid(format!("cannot read {}: {e}", binary.path.display())))?;
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(body)
        .content_type("application/octet-stream")
        .metadata("sha256", &binary.sha256)
        .send()
        .await
        .map_err(api("PutObject", format!("{bucket}/{key}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::aws::test_options as options;

    #[test]
    fn a_url_needs_its_hash() {
        let mut options = options();
        options.app.url = Some("https://downloads.example/photoscale".into());
        let error = resolve(&options).unwrap_err().to_string();
        assert!(error.contains("--app-url needs --app-sha256"), "{error}");
        options.app.sha256 = Some("a".repeat(64));
        let (resolved, binary) = resolve(&options).unwrap();
        assert!(binary.is_none());
        assert_eq!(resolved.app.sha256, options.app.sha256);
    }

    #[test]
    fn a_binary_is_hashed() {
        let mut options = options();
        options.app.binary = Some(std::env::current_exe().unwrap());
        let (resolved, binary) = resolve(&options).unwrap();
        let binary = binary.unwrap();
        assert_eq!(resolved.app.sha256.as_deref(), Some(binary.sha256.as_str()));
        let error = resolve(&crate::aws::test_options())
            .unwrap_err()
            .to_string();
        assert!(error.contains("--app-binary"), "{error}");
    }

    #[test]
    fn the_role_may_read_only_the_one_object() {
        let policy: serde_json::Value =
            serde_json::from_str(&read_policy("eu-west-1", "b", &object_key("abc"))).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Action"], "s3:GetObject");
        assert_eq!(statements[0]["Resource"], "arn:aws:s3:::b/photoscale/abc");
    }

    #[test]
    fn backups_are_kept_under_their_prefix_only() {
        let policy: serde_json::Value =
            serde_json::from_str(&backups_policy("eu-west-1", "arts")).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements[0]["Resource"], "arn:aws:s3:::arts/backups/*");
        assert_eq!(statements[1]["Action"], "s3:ListBucket");
        assert_eq!(statements[1]["Resource"], "arn:aws:s3:::arts");
    }
}
