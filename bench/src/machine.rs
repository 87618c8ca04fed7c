//! A description of the machine and build a run measured, written above the
//! table: ratios hold across machines, absolute figures do not.

use std::process::Command;

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn proc_field(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// Markdown bullet lines.
pub fn describe(profile: &str) -> String {
    let cpu = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|kb| kb.split_whitespace().next()?.parse::<u64>().ok())
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb as f64 / 1048576.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let commit = first_line("git", &["describe", "--always", "--dirty"]);
    [
        format!(
            "- date: {}",
            first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
        ),
        format!("- machine: {cpu}, {cores} CPUs, {memory} memory, Linux {kernel}"),
        format!(
            "- photoscale: commit {commit}, {profile} build; {}",
            first_line("rustc", &["--version"])
        ),
        format!(
            "- load: {}; {}",
            first_line("wrk", &["--version"]),
            first_line("nginx", &["-v"])
        ),
    ]
    .join("\n")
}
