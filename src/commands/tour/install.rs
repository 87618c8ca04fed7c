//! Before the tour: `doctor`'s check of the whole ladder (level 4 needs
//! everything), and, when a program is missing, its install command run
//! after a yes (or with `--install` in `--auto` mode).

use photoscale_infra::doctor;
use photoscale_infra::spec::{Overrides, StackSpec, Target};

pub async fn ensure_ready(auto: bool, install: bool) -> anyhow::Result<()> {
    let report = check()?;
    print!("{}", report.render());
    if report.is_ready() {
        return Ok(());
    }
    let commands = report.install_commands();
    let agreed = if auto {
        install
    } else {
        ask(&format!(
            "Install what is missing with:\n  {}\n[y/N] ",
            commands.join("\n  ")
        ))
        .await
    };
    if !agreed {
        anyhow::bail!(
            "the ladder needs programs this machine lacks\n  fix: run the commands above, or `photoscale tour --auto --install`"
        );
    }
    for command in &commands {
        run(command).await?;
    }
    let report = check()?;
    anyhow::ensure!(
        report.is_ready(),
        "still missing after the install:\n{}",
        report.render()
    );
    Ok(())
}

fn check() -> anyhow::Result<doctor::Report> {
    let spec = StackSpec::for_level(4, Target::Local, &Overrides::default())?;
    Ok(doctor::check(&spec))
}

/// Runs an install command; `sudo` is dropped when already root.
async fn run(command: &str) -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    let is_root = unsafe { libc::geteuid() } == 0;
    let command = match command.strip_prefix("sudo ") {
        Some(rest) if is_root => rest,
        _ => command,
    };
    println!("$ {command}");
    let status = tokio::process::Command::new("sh")
        .args(["-c", command])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .await?;
    anyhow::ensure!(status.success(), "`{command}` failed");
    Ok(())
}

async fn ask(question: &str) -> bool {
    super::answer(question)
        .await
        .is_some_and(|line| line.trim().eq_ignore_ascii_case("y"))
}
