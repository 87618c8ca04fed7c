//! `photoscale infra ... --target aws` from the command line, against moto
//! in server mode: the flags reach the provider, output says what happened,
//! and bad flags are explained before anything is called.

use std::process::Output;

use super::stack::{photoscale, text};

/// moto_server on a free loopback port, stopped on drop.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Moto {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server is installed (scripts/install-services)");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                let url = format!("http://127.0.0.1:{port}");
                // AWS's default VPC reaches the internet; moto's must be told to.
                let script = concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/support/moto_internet_gateway.py"
                );
                let status = std::process::Command::new("python3")
                    .args([script, &url, "eu-west-1"])
                    .status()
                    .expect("python3 runs (it runs moto_server)");
                assert!(status.success(), "{script} failed");
                return Self { child, url };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto_server did not start on port {port}");
    }

    /// `photoscale infra <args> --target aws` against this emulator.
    async fn infra(&self, state_dir: &std::path::Path, args: &[&str]) -> Output {
        let state_dir = state_dir.display().to_string();
        let mut all = vec!["infra"];
        all.extend(args);
        all.extend(["--target", "aws", "--stack", "cli", "--region", "eu-west-1"]);
        all.extend(["--endpoint-url", &self.url, "--state-dir", &state_dir]);
        // Credentials for the emulator; no file or instance role of this machine.
        let none = state_dir.clone() + "/no-such-aws-file";
        let env = [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_CONFIG_FILE", none.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", none.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ];
        photoscale(&all, &env).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn plan_up_status_down_from_the_command_line() {
    let moto = Moto::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Hosted by the user: the buckets here refuse plain HTTP, so delivery
    // through the artifacts bucket is tested over HTTPS (infra/tests/aws_delivery.rs).
    let sha256 = "5".repeat(64);
    let app = [
        "--app-url",
        "https://downloads.example/photoscale",
        "--app-sha256",
        &sha256,
    ];
    let plan = moto
        .infra(dir.path(), &[&["plan", "--level", "1"][..], &app].concat())
        .await;
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    let planned = text(&plan.stdout);
    assert!(
        planned.contains("+ create   load balancer photoscale-cli"),
        "{planned}"
    );
    assert!(
        planned.contains("+ create   database photoscale-cli"),
        "{planned}"
    );
    assert!(
        planned.contains("+ create   DB subnet group photoscale-cli"),
        "{planned}"
    );
    // The cost of leaving level 1 running, said to be an estimate.
    assert!(
        planned.contains("Estimated cost in eu-west-1 (an estimate"),
        "{planned}"
    );
    assert!(
        planned.contains("RDS MySQL (db.t3.micro, 20 GB)") && planned.contains("/month"),
        "{planned}"
    );

    let up = moto
        .infra(dir.path(), &[&["up", "--level", "1"][..], &app].concat())
        .await;
    assert!(up.status.success(), "{}", text(&up.stderr));
    let url = text(&up.stdout);
    assert!(
        url.starts_with("http://") && url.trim_end().ends_with('/'),
        "{url}"
    );
    assert!(
        text(&up.stderr).contains("+ create   load balancer"),
        "{}",
        text(&up.stderr)
    );

    let again = moto
        .infra(dir.path(), &[&["up", "--level", "1"][..], &app].concat())
        .await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("Nothing to change"),
        "{}",
        text(&again.stderr)
    );

    // A new build: `deploy` takes the stack's level and replaces the
    // instances; `up` with that build then has nothing to change.
    let sha256_2 = "6".repeat(64);
    let app_2 = [
        "--app-url",
        "https://downloads.example/photoscale-2",
        "--app-sha256",
        &sha256_2,
    ];
    let deploy = moto
        .infra(dir.path(), &[&["deploy"][..], &app_2].concat())
        .await;
    assert!(deploy.status.success(), "{}", text(&deploy.stderr));
    assert!(
        !text(&deploy.stderr).contains("Nothing to change"),
        "{}",
        text(&deploy.stderr)
    );
    let settled = moto
        .infra(dir.path(), &[&["up", "--level", "1"][..], &app_2].concat())
        .await;
    assert!(
        text(&settled.stderr).contains("Nothing to change"),
        "{}",
        text(&settled.stderr)
    );

    let status = moto.infra(dir.path(), &["status"]).await;
    let shown = text(&status.stdout);
    assert!(
        shown.contains("Stack cli in eu-west-1 (level 1)"),
        "{shown}"
    );
    assert!(
        shown.contains("load balancer") && shown.contains("database"),
        "{shown}"
    );
    assert!(
        dir.path().join("aws-cli.json").exists(),
        "state kept in the state directory"
    );

    // Without --yes and without a terminal to ask on, nothing is deleted;
    // what would be (where, and what holds data) is said first.
    let refused = moto.infra(dir.path(), &["down"]).await;
    let said = text(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("Deleting stack cli in AWS account 123456789012, region eu-west-1"),
        "{said}"
    );
    assert!(said.contains("data: database photoscale-cli"), "{said}");
    assert!(
        said.contains("--final-snapshot") && said.contains("pass --yes"),
        "{said}"
    );
    let status = moto.infra(dir.path(), &["status"]).await;
    assert!(
        text(&status.stdout).contains("load balancer"),
        "still there: {}",
        text(&status.stdout)
    );

    let down = moto
        .infra(dir.path(), &["down", "--yes", "--final-snapshot"])
        .await;
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(
        text(&down.stderr).contains("deleted  load balancer"),
        "{}",
        text(&down.stderr)
    );
    let status = moto.infra(dir.path(), &["status"]).await;
    let left = text(&status.stdout);
    // ElastiCache lists a cluster while it deletes it (for minutes on AWS).
    let still_there: Vec<&str> = left
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" deleting"))
        .collect();
    assert!(still_there.is_empty(), "{left}");
}

#[tokio::test]
async fn bad_aws_flags_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    let cases: [(&[&str], &str); 6] = [
        (&["--stack", "My_Stack"], "lowercase letters"),
        (&["--app-sha256", "abc"], "64 hexadecimal digits"),
        (&["--ami", "image-1"], "ami-0abcdef"),
        (&["--endpoint-url", "localhost"], "http(s) URL"),
        (&["--notify-email", "nobody"], "e-mail address"),
        (&["--port", "81"], "--port is for the local target"),
    ];
    for (flags, expected) in cases {
        let mut args = vec![
            "infra",
            "up",
            "--level",
            "3",
            "--target",
            "aws",
            "--state-dir",
            &state,
        ];
        args.extend(flags);
        let out = photoscale(&args, &[]).await;
        assert!(!out.status.success(), "{flags:?} was accepted");
        let error = text(&out.stderr);
        assert!(error.contains(expected), "{flags:?}: {error}");
        assert!(!error.contains("panicked"), "{error}");
    }
}

#[tokio::test]
async fn what_cannot_be_delivered_is_refused_before_anything_is_made() {
    let moto = Moto::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A hosted program must come with its hash.
    let no_hash = moto
        .infra(
            dir.path(),
            &[
                "up",
                "--level",
                "0",
                "--app-url",
                "https://downloads.example/p",
            ],
        )
        .await;
    assert!(!no_hash.status.success());
    assert!(
        text(&no_hash.stderr).contains("--app-sha256"),
        "{}",
        text(&no_hash.stderr)
    );
    // A script is not a program the instances can run.
    let script = dir.path().join("photoscale.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let not_elf = moto
        .infra(
            dir.path(),
            &[
                "up",
                "--level",
                "0",
                "--app-binary",
                &script.display().to_string(),
            ],
        )
        .await;
    assert!(!not_elf.status.success());
    let error = text(&not_elf.stderr);
    assert!(
        error.contains("not a program the instances can run") && error.contains("fix:"),
        "{error}"
    );
    assert!(!error.contains("panicked"), "{error}");
    let status = moto.infra(dir.path(), &["status"]).await;
    assert!(
        text(&status.stdout).contains("Nothing of stack cli"),
        "{}",
        text(&status.stdout)
    );
    // With an AMI of the user's, the glibc check cannot be made: said.
    let own_image = moto
        .infra(
            dir.path(),
            &[
                "plan",
                "--level",
                "0",
                "--app-binary",
                "/bin/true",
                "--ami",
                "ami-0123456789abcdef0",
            ],
        )
        .await;
    let said = text(&own_image.stderr);
    assert!(own_image.status.success(), "{said}");
    assert!(said.contains("cannot be checked"), "{said}");
}

#[tokio::test]
async fn the_smoke_script_runs_the_ladder_and_finds_nothing_left() {
    let moto = Moto::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/aws-smoke");
    let none = dir.path().join("no-such-aws-file").display().to_string();
    let out = tokio::process::Command::new(script)
        .args([
            "--region",
            "eu-west-1",
            "--stack",
            "smoke",
            "--endpoint-url",
            &moto.url,
        ])
        .args(["--", "--app-url", "https://downloads.example/photoscale"])
        .args(["--app-sha256", &"5".repeat(64)])
        .env("PHOTOSCALE", env!("CARGO_BIN_EXE_photoscale"))
        .env("PHOTOSCALE_STATE_DIR", dir.path())
        .env("AUDIT_MINUTES", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{said}");
    for step in [
        "== aws-smoke: level 0",
        "== aws-smoke: level 3",
        "== aws-smoke: down",
    ] {
        assert!(said.contains(step), "{step}: {said}");
    }
    assert!(said.contains("nothing is left"), "{said}");
}
