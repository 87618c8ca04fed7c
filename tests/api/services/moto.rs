//! An S3-compatible server: moto in server mode (from PyPI). One per test
//! binary; each test gets its own bucket.

use std::process::Command;
use std::sync::OnceLock;

use super::process::{free_port, program, service_dir, wait_for_port, ServiceProcess};

struct Moto {
    port: u16,
    _process: ServiceProcess,
}

fn moto() -> &'static Moto {
    static SHARED: OnceLock<Moto> = OnceLock::new();
    SHARED.get_or_init(|| {
        // The app finds credentials through the standard AWS chain; moto
        // accepts any. Set once, before any app starts.
        for (name, value) in [
            ("AWS_ACCESS_KEY_ID", "photoscale-test"),
            ("AWS_SECRET_ACCESS_KEY", "photoscale-test-secret"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            std::env::set_var(name, value);
        }
        let dir = service_dir("moto");
        let port = free_port();
        let mut command = Command::new(program("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let log = dir.join("moto.log");
        let mut process = ServiceProcess::spawn("moto_server", command, &log);
        wait_for_port("moto_server", port, &mut process, &log);
        Moto {
            port,
            _process: process,
        }
    })
}

pub struct S3Bucket {
    pub endpoint: String,
    pub name: String,
}

/// A new empty bucket.
pub async fn s3_bucket() -> S3Bucket {
    let endpoint = format!("http://127.0.0.1:{}", moto().port);
    let name = super::unique_name("photos-").replace('_', "-");
    let response = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("moto answers");
    assert!(
        response.status().is_success(),
        "creating bucket: {}",
        response.status()
    );
    S3Bucket { endpoint, name }
}

impl S3Bucket {
    /// Points `settings` at this bucket on the moto server.
    pub fn configure(&self, settings: &mut photoscale::configuration::Settings) {
        settings.storage.backend = photoscale::configuration::StorageBackend::S3;
        settings.storage.s3.bucket = self.name.clone();
        settings.storage.s3.endpoint = Some(self.endpoint.clone());
        settings.storage.s3.region = Some("us-east-1".into());
    }

    /// Every object key in the bucket.
    pub async fn keys(&self) -> Vec<String> {
        let xml = reqwest::get(format!("{}/{}?list-type=2", self.endpoint, self.name))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let re = regex::Regex::new("<Key>([^<]+)</Key>").unwrap();
        let mut keys: Vec<String> = re.captures_iter(&xml).map(|c| c[1].to_owned()).collect();
        keys.sort();
        keys
    }
}
