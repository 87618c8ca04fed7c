//! The command line: `config show`, bad configuration, bad flags.

use std::process::Command;

fn photoscale(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_photoscale"))
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_show_merges_layers_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("photoscale.toml"),
        "latency = \"1s\"\n[feed]\nsize = 5\n[sessions]\nkey = \"0123456789abcdef0123456789abcdef-secret\"\n[database]\nurl = \"sqlite://x.db\"\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_photoscale"))
        .current_dir(dir.path())
        .args(["config", "show", "--bind", "127.0.0.1:9999"])
        .env("PHOTOSCALE_FEED__SIZE", "7")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(
        shown.contains("bind = \"127.0.0.1:9999\""),
        "flags win: {shown}"
    );
    assert!(
        shown.contains("size = 7"),
        "environment beats the file: {shown}"
    );
    assert!(
        shown.contains("latency = \"1s\""),
        "the file beats defaults: {shown}"
    );
    assert!(!shown.contains("secret"), "secrets are redacted: {shown}");
    assert!(shown.contains("key = \"[redacted]\""), "{shown}");
}

#[test]
fn an_unknown_key_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photoscale.toml"), "[feed]\nsise = 5\n").unwrap();
    let output = photoscale(dir.path(), &["serve"]);
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(err.contains("unknown key `feed.sise`"), "{err}");
    assert!(err.contains("fix:"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing was created");
}

#[test]
fn a_wrong_type_stops_start_up_naming_the_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photoscale.toml"), "latency = \"soon\"\n").unwrap();
    let output = photoscale(dir.path(), &["config", "show"]);
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert!(err.contains("latency"), "{err}");
    assert!(err.contains("photoscale.toml"), "{err}");
}

#[test]
fn an_unreadable_config_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let output = photoscale(dir.path(), &["--config", "missing.toml", "serve"]);
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert!(
        err.contains("missing.toml") && err.contains("--config"),
        "{err}"
    );
}

#[test]
fn a_bad_flag_value_says_what_was_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let output = photoscale(dir.path(), &["serve", "--bind", "localhost"]);
    assert_eq!(output.status.code(), Some(2));
    let err = text(&output.stderr);
    assert!(err.contains("--bind") && err.contains("localhost"), "{err}");
}

#[test]
fn a_busy_port_is_reported_with_a_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = photoscale(dir.path(), &["serve", "--bind", &address]);
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(err.contains(&address) && err.contains("--bind"), "{err}");
}

#[test]
fn infra_plan_prints_a_level_without_starting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let output = photoscale(
        dir.path(),
        &["infra", "plan", "--level", "1", "--port", "9100", "--json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["spec"]["level"], 1);
    assert_eq!(plan["spec"]["sessions"], "memcached");
    assert_eq!(plan["addresses"]["entry"], "127.0.0.1:9100");
    assert_eq!(plan["addresses"]["instances"][1], "127.0.0.12:9101");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing created"
    );

    let output = photoscale(dir.path(), &["infra", "plan", "--level", "7"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("choose a level from 0 to 4"));
}

#[test]
fn doctor_says_level_zero_needs_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let output = photoscale(dir.path(), &["doctor", "--level", "0"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("nothing beyond photoscale itself"));
}

#[test]
fn infra_numbers_come_from_the_config_file_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("photoscale.toml"),
        "[infra]\nmin = 3\nmax = 5\ncooldown = \"20s\"\nalarm_period = \"10s\"\nhigh_latency = \"2s\"\n",
    )
    .unwrap();
    let output = photoscale(
        dir.path(),
        &["infra", "plan", "--level", "3", "--max", "4", "--json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let spec = &plan["spec"];
    assert_eq!(
        (spec["fleet"]["min"].as_u64(), spec["fleet"]["max"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(spec["scaling"]["cooldown_s"], 20);
    assert_eq!(spec["scaling"]["alarms"][0]["period_s"], 10);
    assert_eq!(spec["scaling"]["alarms"][0]["threshold_ms"], 2000);

    std::fs::write(
        dir.path().join("photoscale.toml"),
        "[infra]\ncooldown = \"soon\"\n",
    )
    .unwrap();
    let output = photoscale(dir.path(), &["infra", "plan", "--level", "3"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("infra.cooldown"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_config_file_in_a_parent_directory_is_named_and_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photoscale.toml"), "[feed]\nsize = 3\n").unwrap();
    let child = dir.path().join("project");
    std::fs::create_dir(&child).unwrap();
    let output = photoscale(&child, &["config", "show"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("size = 10"),
        "the parent's file is not applied: {}",
        text(&output.stdout)
    );
    let warning = text(&output.stderr);
    let parent_file = dir.path().join("photoscale.toml");
    assert!(
        warning.contains(&format!("{} is not read", parent_file.display())),
        "{warning}"
    );
    assert!(warning.contains("--config"), "{warning}");

    let output = photoscale(dir.path(), &["config", "show"]);
    assert!(
        text(&output.stdout).contains("size = 3"),
        "read where it is"
    );
    assert!(!text(&output.stderr).contains("not read"));
}
