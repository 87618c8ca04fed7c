//! S3 storage's credentials from the EC2 metadata service (IMDSv2), as on
//! an instance with a role: moto's server answers the metadata paths.

use std::sync::Arc;

use photoscale::storage::s3_credentials::InstanceRole;

#[tokio::test]
async fn the_instance_role_comes_from_the_metadata_service_and_is_kept() {
    let moto = crate::services::s3_bucket().await;
    let role = InstanceRole::at(&moto.endpoint);
    let credentials = role.current().await.unwrap();
    // moto's role credentials, with the session token a role always has.
    assert_eq!(credentials.key(), "test-key");
    assert_eq!(credentials.token(), Some("test-session-token"));
    let again = role.current().await.unwrap();
    assert!(
        Arc::ptr_eq(&credentials, &again),
        "valid for a day: not fetched again"
    );
}

#[tokio::test]
async fn without_a_metadata_service_the_error_is_quick_and_clear() {
    let started = std::time::Instant::now();
    let error = InstanceRole::at("http://127.0.0.1:9")
        .current()
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!error.to_string().is_empty());
}
