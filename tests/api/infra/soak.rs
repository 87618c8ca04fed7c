//! The fault soak: a level-1 stack under load (`photoscale loadtest` with
//! feed, photo, login and upload requests, plus this test's own readers and
//! uploader) while, one after another, MariaDB is frozen and thawed, killed
//! and brought back, memcached is killed and brought back, and an instance
//! is killed and replaced. It reports per phase the requests by status, the
//! longest request and the time to recover after the component returned,
//! then audits storage: every upload that was answered with success is in
//! the database and in storage, and nothing is stored without its row once
//! the instances' orphan sweep (its grace shortened to 10 s here) has
//! removed what uploads cut off by a kill left.
//!
//! The test suite runs it short (`SOAK_SECONDS` per phase, default 3);
//! `scripts/soak` runs it long. The report also goes to
//! `test-artifacts/soak/report.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::stack::{Stack, FAST_HEALTH_CHECKS};
use crate::helpers::{Site, PASSWORD};

/// The app's `database.query_timeout` (the default): no request may take
/// longer than it plus a second.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// A component that returns must be serving again within this.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);
/// The instances' orphan sweep, shortened from its hour so that the objects
/// of an upload cut off by the instance's SIGKILL go within the test. The
/// grace is the least the app accepts: twice the query timeout.
const ORPHAN_GRACE: Duration = Duration::from_secs(10);
const SWEEP: [(&str, &str); 2] = [
    ("PHOTOSCALE_STORAGE__ORPHAN_GRACE", "10s"),
    ("PHOTOSCALE_STORAGE__SWEEP_EVERY", "1s"),
];

/// `infra up` for the soak: fast health checks, and the short sweep in the
/// instances' environment.
async fn soak_up(stack: &Stack, level: u8) {
    let output = stack.up_with_env(level, &FAST_HEALTH_CHECKS, &SWEEP).await;
    assert!(
        output.status.success(),
        "infra up --level {level}: {}{}",
        super::stack::text(&output.stdout),
        super::stack::text(&output.stderr)
    );
}

/// What this test's own clients saw during one phase.
#[derive(Debug, Default, Clone)]
struct PhaseRecord {
    by_status: BTreeMap<String, u64>,
    longest: Duration,
    recovery: Option<Duration>,
}

#[derive(Default)]
struct Record {
    phase: String,
    phases: Vec<(String, PhaseRecord)>,
    /// Photo ids of uploads answered with success.
    acknowledged: Vec<String>,
}

impl Record {
    fn note(&mut self, status: String, took: Duration) {
        let phase = self.phase.clone();
        let entry = match self.phases.iter_mut().find(|(name, _)| *name == phase) {
            Some((_, record)) => record,
            None => {
                self.phases.push((phase, PhaseRecord::default()));
                &mut self.phases.last_mut().unwrap().1
            }
        };
        *entry.by_status.entry(status).or_default() += 1;
        entry.longest = entry.longest.max(took);
    }
}

type Shared = Arc<Mutex<Record>>;

fn seconds_per_phase() -> f64 {
    std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

#[tokio::test]
async fn level_1_under_load_survives_each_component_failing_in_turn() {
    let stack = Stack::unstarted();
    soak_up(&stack, 1).await;
    stack.sign_up("soak").await;
    let hold = Duration::from_secs_f64(seconds_per_phase());
    let record: Shared = Arc::default();
    let stop = CancellationToken::new();

    // The load: the load test for the phases' length and then some.
    let total = hold.as_secs_f64() * 12.0 + 20.0;
    let out = tempfile::tempdir().unwrap();
    let loadtest = tokio::process::Command::new(env!("CARGO_BIN_EXE_photoscale"))
        .args(["loadtest", "--url", &stack.url, "--concurrency", "4"])
        .args(["--mix", "feed=60,photo=20,login=10,upload=10"])
        .arg(format!("--duration={total:.0}s"))
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the load test starts");
    let clients = spawn_clients(&stack, &record, &stop);

    set_phase(&record, "steady");
    tokio::time::sleep(hold).await;

    let mariadb = stack.pid_of("mariadb").await;
    set_phase(&record, "MariaDB frozen (SIGSTOP), then thawed");
    signal(mariadb, "STOP");
    tokio::time::sleep(hold).await;
    signal(mariadb, "CONT");
    recover(&stack, &record).await;

    let mut instance_killed = Instant::now();
    for (component, phase) in [
        ("mariadb", "MariaDB killed, then brought back"),
        ("memcached", "memcached killed, then brought back"),
        ("i-1", "an instance killed, then replaced"),
    ] {
        instance_killed = kill_and_bring_back(&stack, &record, 1, component, phase, hold).await;
    }

    set_phase(&record, "steady again");
    tokio::time::sleep(hold).await;
    stop.cancel();
    for client in clients {
        let _ = client.await;
    }
    drop(loadtest);
    // Requests the server had already taken finish before the audit looks.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // An upload under way in the instance that was SIGKILLed can leave its
    // objects (or a staging file) without a row; the surviving instance's
    // sweep removes them once they are older than the grace.
    // What an upload cut off by a kill leaves (an original, a staging file),
    // planted so that the sweep's work shows whether or not the kill hit one.
    let planted = Instant::now();
    for leftover in [
        "originals/0ff0ff0ff0ff0ff0ff0ff0ff0ff0ff00.jpg",
        "thumbnails/.0ff0ff0ff0ff0ff0ff0ff0ff0ff0ff00.jpg.0123456789abcdef.tmp",
    ] {
        let path = stack.state_dir.path().join("shared-photos").join(leftover);
        std::fs::write(path, b"cut off").unwrap();
    }
    let sweep_done = instance_killed.max(planted) + ORPHAN_GRACE + Duration::from_secs(5);
    let (audit, swept) = audit_after_sweep(&stack, &record, sweep_done, || async {
        shared_directory(&stack)
    })
    .await;
    let mut report = report("level 1", &record, &audit);
    report.push_str(&swept);
    println!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/soak");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("report-level-1.md"), &report);

    let (acknowledged, phases) = {
        let record = record.lock().unwrap();
        (record.acknowledged.len(), record.phases.clone())
    };
    assert!(acknowledged > 0, "uploads went through\n{report}");
    assert!(
        audit.lost.is_empty(),
        "acknowledged uploads lost: {:?}\n{report}",
        audit.lost
    );
    assert!(
        audit.orphans.is_empty(),
        "stored without a row: {:?}\n{report}",
        audit.orphans
    );
    assert!(
        audit.missing.is_empty(),
        "rows without their objects: {:?}\n{report}",
        audit.missing
    );
    for (phase, r) in &phases {
        assert!(
            r.longest <= QUERY_TIMEOUT + Duration::from_secs(1),
            "{phase}: a request took {:?}\n{report}",
            r.longest
        );
        if let Some(recovery) = r.recovery {
            assert!(
                recovery <= RECOVERY_LIMIT,
                "{phase}: recovered in {recovery:?}\n{report}"
            );
        }
    }
    stack.down_and_check_nothing_is_left().await;
}

fn set_phase(record: &Shared, phase: &str) {
    record.lock().unwrap().phase = phase.to_owned();
}

fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// One phase: `component` is SIGKILLed, stays away for `hold`, and `infra
/// up` (which restarts what crashed) brings it back; then the recovery.
/// Returns when the kill happened.
async fn kill_and_bring_back(
    stack: &Stack,
    record: &Shared,
    level: u8,
    component: &str,
    phase: &str,
    hold: Duration,
) -> Instant {
    let pid = stack.pid_of(component).await;
    set_phase(record, phase);
    let killed = Instant::now();
    signal(pid, "KILL");
    tokio::time::sleep(hold).await;
    soak_up(stack, level).await;
    recover(stack, record).await;
    killed
}

/// Waits until the front page and a login work through the load balancer;
/// records how long that took after the component returned.
async fn recover(stack: &Stack, record: &Shared) {
    let started = Instant::now();
    let visitor = stack.visitor();
    loop {
        let feed = visitor.get("/").await.status();
        if feed == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recovered: {feed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut record = record.lock().unwrap();
    let phase = record.phase.clone();
    record.note("recovered".into(), Duration::ZERO);
    if let Some((_, r)) = record.phases.iter_mut().find(|(name, _)| *name == phase) {
        r.recovery = Some(started.elapsed());
    }
}

/// Two readers of the feed and one uploader, each recording what it saw.
fn spawn_clients(stack: &Stack, record: &Shared, stop: &CancellationToken) -> Vec<JoinHandle<()>> {
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (visitor, record, stop) = (stack.visitor(), record.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                let started = Instant::now();
                let status = match visitor.client().get(visitor.url("/")).send().await {
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(_) => "connection error".into(),
                };
                record
                    .lock()
                    .unwrap()
                    .note(format!("GET / {status}"), started.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    let (uploader, record, stop) = (stack.visitor(), record.clone(), stop.clone());
    clients.push(tokio::spawn(async move {
        let mut n = 0u32;
        while !stop.is_cancelled() {
            n += 1;
            let started = Instant::now();
            // The form, logging in again when the session is gone (memcached
            // restarted, or the page could not be made).
            let form = match uploader.client().get(uploader.url("/upload")).send().await {
                Ok(r) if r.status() == 200 => r.text().await.ok(),
                Ok(r) if r.status() == 303 => {
                    let html = uploader.client().get(uploader.url("/login")).send().await;
                    if let Ok(html) = html {
                        let html = html.text().await.unwrap_or_default();
                        if let Some(token) = crate::helpers::csrf_in(&html) {
                            let fields = [
                                ("csrf_token", token.as_str()),
                                ("username", "soak"),
                                ("password", PASSWORD),
                            ];
                            let _ = uploader
                                .client()
                                .post(uploader.url("/login"))
                                .form(&fields)
                                .send()
                                .await;
                        }
                    }
                    None
                }
                _ => None,
            };
            let Some(token) = form.as_deref().and_then(crate::helpers::csrf_in) else {
                tokio::time::sleep(Duration::from_millis(150)).await;
                continue;
            };
            let photo = crate::images::jpeg(40 + n % 50, 30);
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", token)
                .part(
                    "photo",
                    reqwest::multipart::Part::bytes(photo)
                        .file_name("soak.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                );
            let sent = uploader
                .client()
                .post(uploader.url("/upload"))
                .multipart(form)
                .send()
                .await;
            let took = started.elapsed();
            let (status, id) = match sent {
                Ok(r) if r.status() == 303 => {
                    let id = r.headers()["x-photo-id"].to_str().unwrap().to_owned();
                    ("upload 303".to_owned(), Some(id))
                }
                Ok(r) => (format!("upload {}", r.status().as_u16()), None),
                Err(_) => ("upload connection error".to_owned(), None),
            };
            {
                let mut record = record.lock().unwrap();
                record.acknowledged.extend(id);
                record.note(status, took);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }));
    clients
}

struct Audit {
    rows: usize,
    lost: Vec<String>,
    orphans: Vec<String>,
    missing: Vec<String>,
}

/// What the shared photo directory holds.
fn shared_directory(stack: &Stack) -> BTreeSet<String> {
    stack
        .files_under("shared-photos")
        .into_iter()
        .filter(|f| !f.ends_with(".part"))
        .collect()
}

/// Compares what was acknowledged, what the database holds and what the
/// storage holds (`stored`: paths or keys that end with the objects' keys).
async fn audit(stack: &Stack, record: &Shared, stored: BTreeSet<String>) -> Audit {
    use sqlx::Connection;
    let config =
        std::fs::read_to_string(stack.state_dir.path().join("app/photoscale.toml")).unwrap();
    let config: toml::Table = config.parse().unwrap();
    let url = config["database"]["url"].as_str().unwrap().to_owned();
    let mut db = sqlx::MySqlConnection::connect(&url)
        .await
        .expect("the stack's database");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as(
            "SELECT CAST(public_id AS CHAR), CAST(object_key AS CHAR), CAST(thumb_key AS CHAR) FROM photos",
        )
            .fetch_all(&mut db)
            .await
            .unwrap();
    let ids: BTreeSet<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    let keys: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, original, thumb)| [original.as_str(), thumb.as_str()])
        .collect();
    let lost = record
        .lock()
        .unwrap()
        .acknowledged
        .iter()
        .filter(|id| !ids.contains(id.as_str()))
        .cloned()
        .collect();
    let orphans = stored
        .iter()
        .filter(|file| !keys.iter().any(|key| file.ends_with(key)))
        .cloned()
        .collect();
    let missing = keys
        .iter()
        .filter(|key| !stored.iter().any(|file| file.ends_with(*key)))
        .map(|key| key.to_string())
        .collect();
    Audit {
        rows: rows.len(),
        lost,
        orphans,
        missing,
    }
}

/// Audits until nothing is stored without its row or `deadline` passes:
/// the instances' sweep removes what an interrupted upload left. Returns
/// the last audit and a line on what the sweep removed meanwhile.
async fn audit_after_sweep<F, Fut>(
    stack: &Stack,
    record: &Shared,
    deadline: Instant,
    stored: F,
) -> (Audit, String)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = BTreeSet<String>>,
{
    let mut last = audit(stack, record, stored().await).await;
    let first_look = last.orphans.clone();
    while !last.orphans.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        last = audit(stack, record, stored().await).await;
    }
    let line = format!(
        "{} objects without a row at the first look (uploads cut off by a kill, and the \
         planted leftovers), all for the instances' orphan sweep to remove: {first_look:?}\n",
        first_look.len()
    );
    (last, line)
}

fn report(level: &str, record: &Shared, audit: &Audit) -> String {
    use std::fmt::Write;
    let record = record.lock().unwrap();
    let mut out = format!("# Fault soak, {level}\n\n| phase | requests by status | longest | recovered after the component returned |\n|---|---|---|---|\n");
    for (phase, r) in &record.phases {
        let statuses: Vec<String> = r
            .by_status
            .iter()
            .filter(|(s, _)| *s != "recovered")
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        let recovery = r
            .recovery
            .map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64()));
        let _ = writeln!(
            out,
            "| {phase} | {} | {:.2} s | {recovery} |",
            statuses.join(", "),
            r.longest.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "\nAudit: {} uploads acknowledged, {} rows, {} acknowledged but lost, {} stored without a row, {} rows without their objects.",
        record.acknowledged.len(),
        audit.rows,
        audit.lost.len(),
        audit.orphans.len(),
        audit.missing.len()
    );
    out
}

/// Level 2: the S3 server is killed and brought back while uploads go on.
/// Uploads fail while it is away (a 503 that says so), and afterwards every
/// acknowledged photo is in the bucket and nothing is in it without a row.
#[tokio::test]
async fn level_2_keeps_every_acknowledged_photo_when_the_s3_server_restarts() {
    let stack = Stack::unstarted();
    soak_up(&stack, 2).await;
    stack.sign_up("soak").await;
    let hold = Duration::from_secs_f64(seconds_per_phase());
    let record: Shared = Arc::default();
    let stop = CancellationToken::new();
    let clients = spawn_clients(&stack, &record, &stop);

    set_phase(&record, "steady");
    tokio::time::sleep(hold).await;
    let phase = "the S3 server killed, then brought back";
    let killed = kill_and_bring_back(&stack, &record, 2, "s3", phase, hold).await;
    set_phase(&record, "steady again");
    tokio::time::sleep(hold).await;
    stop.cancel();
    for client in clients {
        let _ = client.await;
    }

    let bucket = stack.bucket();
    let planted = Instant::now();
    bucket
        .put("originals/0ff0ff0ff0ff0ff0ff0ff0ff0ff0ff00.jpg", b"cut off")
        .await;
    let sweep_done = killed.max(planted) + ORPHAN_GRACE + Duration::from_secs(5);
    let (audit, swept) = audit_after_sweep(&stack, &record, sweep_done, || async {
        bucket.keys().await.into_iter().collect()
    })
    .await;
    let mut report = report("level 2", &record, &audit);
    report.push_str(&swept);
    println!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/soak");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("report-level-2.md"), &report);
    let acknowledged = record.lock().unwrap().acknowledged.len();
    assert!(acknowledged > 0, "uploads went through\n{report}");
    assert!(audit.lost.is_empty(), "lost: {:?}\n{report}", audit.lost);
    assert!(
        audit.orphans.is_empty(),
        "orphans: {:?}\n{report}",
        audit.orphans
    );
    assert!(
        audit.missing.is_empty(),
        "missing: {:?}\n{report}",
        audit.missing
    );
    stack.down_and_check_nothing_is_left().await;
}
