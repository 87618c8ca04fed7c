//! What a stack's state file says is checked before it is believed: a pid
//! that now belongs to another process is left alone, and a cut-off or
//! foreign file gives an error that names it, never a panic.

use std::process::{Child, Command};

use super::stack::{text, Stack};

/// A process that is not the stack's but, by name, looks like an instance:
/// its command line starts with "photoscale".
fn impostor() -> Child {
    Command::new("bash")
        .args(["-c", "exec -a photoscale sleep 300"])
        .spawn()
        .expect("bash runs")
}

fn alive(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_none()
}

/// A state directory whose stack.json names `pid` as instance i-1.
fn state_naming(stack: &Stack, pid: u32, started: serde_json::Value) {
    let root = stack.state_dir.path();
    std::fs::write(root.join(".photoscale-state"), "made by photoscale infra\n").unwrap();
    let mut instance = serde_json::json!({
        "program": "photoscale",
        "pid": pid,
        "address": format!("127.0.0.11:{}", stack.port + 10),
        "fingerprint": "x",
        "log": root.join("i-1.log"),
    });
    if !started.is_null() {
        instance["started"] = started;
    }
    let state = serde_json::json!({
        "spec": null,
        "entry": null,
        "components": {},
        "instances": { "i-1": instance },
    });
    std::fs::write(root.join("stack.json"), state.to_string()).unwrap();
}

#[tokio::test]
async fn a_recycled_pid_is_never_taken_for_the_stacks_process() {
    let stack = Stack::unstarted();
    let mut other = impostor();
    // Recorded for the process the stack once started: same pid, another
    // start (a reboot, or the pid counter wrapped).
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    state_naming(
        &stack,
        other.id(),
        serde_json::json!({ "boot_id": boot_id.trim(), "ticks": 1 }),
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    // (status exits non-zero: not everything is healthy)
    let status = stack.infra(&["infra", "status", "--json"], &[]).await;
    let status: serde_json::Value = serde_json::from_slice(&status.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&status.stderr)));
    assert_eq!(
        status["instances"][0]["health"], "crashed",
        "the pid is someone else's now: {status:#}"
    );

    let down = stack.infra(&["infra", "down"], &[]).await;
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(alive(&mut other), "down left the other process alone");
    other.kill().unwrap();
}

#[tokio::test]
async fn an_old_state_file_without_start_times_still_checks_the_name() {
    let stack = Stack::unstarted();
    let mut other = Command::new("sleep").arg("300").spawn().unwrap();
    state_naming(&stack, other.id(), serde_json::Value::Null);
    let down = stack.infra(&["infra", "down"], &[]).await;
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(alive(&mut other), "a sleep is not photoscale");
    other.kill().unwrap();
}

#[tokio::test]
async fn a_cut_off_or_foreign_state_file_is_named_in_an_error() {
    for content in [
        "{\"spec\": null, \"comp",
        "<html>not json</html>",
        "[1, 2, 3]",
    ] {
        let stack = Stack::unstarted();
        let root = stack.state_dir.path();
        std::fs::write(root.join(".photoscale-state"), "made by photoscale infra\n").unwrap();
        std::fs::write(root.join("stack.json"), content).unwrap();
        for command in [
            &["infra", "status"][..],
            &["infra", "down"],
            &["infra", "up", "--level", "0"],
        ] {
            let output = stack.infra(command, &[]).await;
            let stderr = text(&output.stderr);
            assert!(!output.status.success(), "{command:?} on {content:?}");
            assert!(stderr.contains("stack.json"), "{command:?}: {stderr}");
            assert!(stderr.contains("fix:"), "{command:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
        }
    }
}
