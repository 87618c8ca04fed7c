//! Build script: tells cargo when to rebuild, and stamps the build with an id
//! (version, commit, build time) that instances report in `/healthz`, the
//! page strip and `infra status`, so that two builds of one version differ.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    // `sqlx::migrate!` embeds the migrations at compile time but cannot tell
    // cargo (on stable) to rebuild when one is added: this line does.
    println!("cargo:rerun-if-changed=migrations");
    // A new build id whenever what goes into the program changes.
    for path in ["src", "templates", "static", "infra/src", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    watch_git_head();
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // (Not PHOTOSCALE_*: cargo also sets these when it runs the tests, and
    // the configuration reads every PHOTOSCALE_* variable.)

    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let built_at = utc_timestamp(seconds);
    println!("cargo:rustc-env=PSCALE_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=PSCALE_BUILT_AT={built_at}");
    println!("cargo:rustc-env=PSCALE_BUILD_ID={version}+g{commit}.{built_at}");
}

/// Rebuilds the id when a commit is made or another branch checked out.
fn watch_git_head() {
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]) else {
        return;
    };
    // A path that does not exist would rerun the script on every build, so
    // only existing ones are watched (a fresh clone keeps its refs packed).
    let mut watched = vec![format!("{git_dir}/HEAD"), format!("{git_dir}/packed-refs")];
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(format!("{git_dir}/{reference}"));
    }
    for path in watched {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// `20261126T171200Z` for a Unix time (the civil-from-days algorithm of
/// Howard Hinnant, so the build script needs no date crate).
fn utc_timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
