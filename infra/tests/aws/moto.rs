//! One moto server per test, on a free loopback port, stopped on drop.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use photoscale_infra::aws::{AwsOptions, Clients, Connection, StackName, Timeouts};
use photoscale_infra::spec::{Overrides, StackSpec, Target};

pub struct Moto {
    child: Child,
    pub url: String,
    pub state_dir: tempfile::TempDir,
}

impl Moto {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Like EC2: an AMI that does not exist is an error.
            .env("MOTO_ENABLE_AMI_VALIDATION", "true")
            // AWS's managed policies (AmazonSSMManagedInstanceCore) exist.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server is installed (scripts/install-services installs moto[server])");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                give_internet_gateways(&url);
                return Self {
                    child,
                    url,
                    state_dir: tempfile::tempdir().unwrap(),
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto_server did not listen on {url} within 20 s");
    }

    pub fn connection(&self) -> Connection {
        Connection {
            region: Some("eu-west-1".into()),
            profile: None,
            endpoint_url: Some(self.url.clone()),
            static_credentials: Some(("testing".into(), "testing".into())),
        }
    }

    pub fn options(&self, stack: &str) -> AwsOptions {
        let stack = StackName::parse(stack).unwrap();
        let mut options =
            AwsOptions::new(stack, self.connection(), self.state_dir.path().to_owned());
        options.app.url = Some("https://downloads.example/photoscale".into());
        options.app.sha256 = Some("5".repeat(64));
        options.timeouts = Timeouts {
            database: Duration::from_secs(30),
            cache: Duration::from_secs(30),
            instances: Duration::from_secs(30),
            deletion: Duration::from_secs(30),
            poll: Duration::from_millis(200),
        };
        options
    }

    pub async fn clients(&self) -> Clients {
        Clients::connect(&self.connection()).await.unwrap()
    }
}

/// The regions the tests use get the internet gateway AWS's default VPCs
/// have and moto's lack (tests/support/moto_internet_gateway.py).
fn give_internet_gateways(url: &str) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/support/moto_internet_gateway.py"
    );
    let status = Command::new("python3")
        .args([script, url, "eu-west-1", "us-east-1"])
        .status()
        .expect("python3 runs (it runs moto_server)");
    assert!(status.success(), "{script} failed");
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spec(level: u8) -> StackSpec {
    StackSpec::for_level(level, Target::Aws, &Overrides::default()).unwrap()
}
