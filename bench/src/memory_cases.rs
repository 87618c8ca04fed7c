//! One instance's memory: idle, through a burst of logins (argon2 takes
//! 19 MiB per hash) and a burst of 12-megapixel uploads, and whether it is
//! given back afterwards. Each burst hits a freshly started instance on a
//! data directory prepared by another process, so nothing but the burst is
//! in its memory.

use std::path::Path;
use std::time::Duration;

use crate::bench::Bench;
use crate::memory::{peak_during, settle};
use crate::process::rss_mib;
use crate::report::{Row, Target};
use crate::seed::Browser;
use crate::stack::{self, Server};

const USER: &str = "bench-memory";
const CONFIG: &str = "[sessions]\nsecure_cookie = false\n";
const SETTLED_MIB: f64 = 40.0;

pub async fn run(bench: &mut Bench, large_jpeg: &Path) -> anyhow::Result<()> {
    let data = bench.work.join("memory-data");
    // Set-up in a process of its own: the user, and four logged-in
    // browsers for the uploads (cookie sessions work on any process that
    // shares the data directory's session key).
    let setup = start(bench, "memory-setup", &data).await?;
    Browser::new(&setup.base).register(USER).await?;
    let mut uploaders = Vec::new();
    for _ in 0..4 {
        let browser = Browser::new(&setup.base);
        browser.log_in(USER).await?;
        uploaders.push(browser);
    }
    setup.process.stop().await;

    let logins = start(bench, "memory-logins", &data).await?;
    let pid = logins.process.pid();
    Browser::new(&logins.base).get("/").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mib(pid).unwrap_or(0.0);
    bench.push(
        Row::new(
            "idle RSS of one instance",
            mib(idle),
            Target::MibAtMost(20.0),
        )
        .judge(idle)
        .with_note("fresh instance, one page served, 2 s idle"),
    );
    let (done, peak) = peak_during(pid, burst_of_logins(&logins.base)).await;
    done?;
    bench.push(
        Row::new(
            "peak RSS during 40 logins, 8 at a time",
            mib(peak),
            Target::MibAtMost(100.0),
        )
        .judge(peak),
    );
    settled(bench, pid, "logins").await;
    logins.process.stop().await;

    let uploads = start(bench, "memory-uploads", &data).await?;
    let pid = uploads.process.pid();
    let photo = std::fs::read(large_jpeg)?;
    let uploaders: Vec<Browser> = uploaders
        .iter()
        .map(|b| b.visiting(&uploads.base))
        .collect();
    let (done, peak) = peak_during(pid, burst_of_uploads(&uploaders, &photo)).await;
    done?;
    bench.push(
        Row::new(
            "peak RSS during 20 uploads of a 12-megapixel JPEG, 4 at a time",
            mib(peak),
            Target::MibAtMost(120.0),
        )
        .judge(peak)
        .with_note(format!("{:.1} MB file", photo.len() as f64 / 1048576.0)),
    );
    settled(bench, pid, "uploads").await;

    let rounds = if bench.quick { 3 } else { 10 };
    let mut times = Vec::new();
    for _ in 0..rounds {
        times.push(uploaders[0].upload(&photo, "one client").await?);
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64() * 1000.0;
    bench.push(
        Row::new(
            "a 12-megapixel JPEG upload (receive, check, thumbnail, store), one client",
            format!("{median:.0} ms"),
            Target::MillisAtMost(40.0),
        )
        .judge(median)
        .with_note(format!("median of {rounds}, POST to response")),
    );
    uploads.process.stop().await;
    Ok(())
}

async fn start(bench: &Bench, name: &str, data: &Path) -> anyhow::Result<Server> {
    stack::serve(&bench.photoscale, &bench.work, name, CONFIG, data, &[]).await
}

/// Whether RSS came back under 40 MB, and how fast.
async fn settled(bench: &mut Bench, pid: u32, after: &str) {
    let patience = bench.settle_patience;
    let (took, now) = settle(pid, SETTLED_MIB, patience).await;
    let name = format!("RSS back under {SETTLED_MIB:.0} MB after the {after}");
    let target = Target::SecondsAtMost(60.0);
    let row = match took {
        Some(took) => Row::new(&name, format!("in {:.1} s", took.as_secs_f64()), target)
            .judge(took.as_secs_f64()),
        // Not within the patience: short, whatever the patience was.
        None => {
            Row::new(&name, format!("not in {} s", patience.as_secs()), target).judge(f64::INFINITY)
        }
    };
    bench.push(row.with_note(format!("{} then", mib(now))));
}

/// 8 clients, 5 logins each (the login page for its token, then the POST).
async fn burst_of_logins(base: &str) -> anyhow::Result<()> {
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let base = base.to_owned();
        clients.spawn(async move {
            for _ in 0..5 {
                Browser::new(&base).log_in(USER).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = clients.join_next().await {
        done??;
    }
    Ok(())
}

/// 4 logged-in clients, 5 uploads each.
async fn burst_of_uploads(uploaders: &[Browser], photo: &[u8]) -> anyhow::Result<()> {
    let uploads = uploaders.iter().map(|browser| async move {
        for n in 0..5 {
            browser.upload(photo, &format!("burst {n}")).await?;
        }
        anyhow::Ok(())
    });
    for done in futures_util::future::join_all(uploads).await {
        done?;
    }
    Ok(())
}

fn mib(value: f64) -> String {
    format!("{value:.1} MB")
}
