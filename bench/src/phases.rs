//! The run, phase by phase: references first, then the ladder's levels in
//! the order `infra up` can move between them while keeping the data
//! (0 → 1 → 4 → 4 with Redis → 2 → 3), with the cases each level serves.

use anyhow::Context;

use crate::bench::{Bench, Case, Reference};
use crate::images::ImageSet;
use crate::loadtest::Arrivals;
use crate::report::{thousands, Row, Target};
use crate::seed::{self, Browser};
use crate::stack::{self, Stack};
use crate::{memory_cases, nginx};

/// The cases that need a seeded level-0 stack: the level-0 feed, the
/// health check, photo bytes against nginx, and the load generator check.
pub async fn level_0(bench: &mut Bench, stack: &Stack, images: &ImageSet) -> anyhow::Result<()> {
    let status = stack.up(0, &[]).await?;
    let base = instance_base(&status)?;
    println!("seeding {base}: 50 users, {} photos", images.files.len());
    let others: Vec<_> = images
        .files
        .iter()
        .filter(|f| **f != images.reference)
        .cloned()
        .collect();
    seed::seed(&base, 50, &others, 4).await?;
    // The reference photo last, so that it leads the feed.
    let uploader = Browser::new(&base);
    uploader.log_in(&seed::username(0)).await?;
    uploader
        .upload(&std::fs::read(&images.reference)?, "The reference photo")
        .await?;
    let feed = uploader.get("/").await?.text().await?;
    let id = first_photo_id(&feed).context("the seeded feed shows no photo")?;

    bench.measure_hello("level 0").await?;
    bench
        .throughput(page("feed, SQLite, no cache (level 0)", &base, "/", 0.20))
        .await?;
    bench
        .throughput(page("/healthz", &base, "/healthz", 0.60))
        .await?;
    photo_bytes(bench, &base, &id, &uploader).await?;
    load_generator_keeps_up(bench, &base).await?;
    memory_cache(bench, stack).await?;
    memory_cases::run(bench, &images.large).await
}

/// Original and thumbnail, each against nginx serving the same bytes.
async fn photo_bytes(
    bench: &mut Bench,
    base: &str,
    id: &str,
    browser: &Browser,
) -> anyhow::Result<()> {
    let www = bench.work.join("www");
    std::fs::create_dir_all(&www)?;
    for (variant, file) in [("image", "original.jpg"), ("thumb", "thumbnail.jpg")] {
        let bytes = browser
            .get(&format!("/photos/{id}/{variant}"))
            .await?
            .bytes()
            .await?;
        std::fs::write(www.join(file), &bytes)?;
    }
    let nginx = nginx::start(&bench.work, &www).await?;
    for (variant, file, label) in [
        ("image", "original.jpg", "original photo"),
        ("thumb", "thumbnail.jpg", "thumbnail"),
    ] {
        let size = std::fs::metadata(www.join(file))?.len();
        let what = format!("{label} ({} KB)", size / 1024);
        let reference = bench.closed(&nginx.base, &format!("/{file}"), &[]).await?;
        bench.push(
            Row::new(
                &format!("nginx, the same {what} (reference)"),
                format!("{} req/s", thousands(reference.requests_per_second)),
                Target::None,
            )
            .with_note(format!(
                "{:.0} MB/s",
                reference.bytes_per_second / 1048576.0
            )),
        );
        bench
            .throughput(Case {
                name: &format!("{what}, local storage"),
                base,
                path: &format!("/photos/{id}/{variant}"),
                headers: Vec::new(),
                log_in: false,
                reference: Reference::Measured("nginx", reference.requests_per_second),
                target: Target::RatioAtLeast(0.80),
            })
            .await?;
    }
    nginx.process.stop().await;
    Ok(())
}

/// `photoscale loadtest --mix feed=100` against wrk on the same URL, both
/// closed loops with 8 connections.
async fn load_generator_keeps_up(bench: &mut Bench, base: &str) -> anyhow::Result<()> {
    let mut options = bench.wrk;
    options.connections = 8;
    let (mut wrk, mut ours) = (Vec::new(), Vec::new());
    // Taken in turn, three times each: the median of each is compared, so
    // that a noisy moment of the machine does not decide the ratio.
    for _ in 0..ROUNDS {
        let run = crate::wrk::run(options, &format!("{base}/"), &[]).await?;
        wrk.push(run.requests_per_second);
        let run = bench
            .loadtest(
                base,
                None,
                false,
                Arrivals::Concurrency(8),
                options.duration,
            )
            .await?;
        ours.push(run.achieved_per_second);
    }
    let (wrk, ours) = (median(wrk), median(ours));
    let ratio = ours / wrk.max(1.0);
    let mut row = Row::new(
        "photoscale loadtest --mix feed=100 against wrk, same URL, 8 clients",
        format!("{} req/s", thousands(ours)),
        Target::RatioAtLeast(0.90),
    );
    row.ratio = Some(ratio);
    row.reference = Some("wrk".into());
    bench.push(row.judge(ratio).with_note(format!(
        "wrk: {} req/s; medians of {ROUNDS} runs each, taken in turn",
        thousands(wrk)
    )));
    Ok(())
}

/// Runs per side when two figures are compared with each other.
const ROUNDS: usize = 3;

fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[figures.len() / 2]
}

/// A lone instance with the in-memory feed cache on the level-0 data:
/// anonymous and member feeds, the open-loop latency target, and what the
/// default request log costs.
async fn memory_cache(bench: &mut Bench, stack: &Stack) -> anyhow::Result<()> {
    let data = stack.instance_data("i-1");
    let config = |level: &str| {
        format!(
            "[log]\nlevel = \"{level}\"\n[database]\nurl = \"sqlite://{db}\"\n[storage]\nbackend = \"local\"\npath = \"{photos}\"\n[cache]\nbackend = \"memory\"\n[sessions]\nsecure_cookie = false\n",
            db = data.join("photoscale.db").display(),
            photos = data.join("photos").display()
        )
    };
    let work = bench.work.clone();
    bench.measure_hello("the memory cache").await?;
    let server = stack::serve(
        &bench.photoscale,
        &work,
        "memory-cache",
        &config("info"),
        &work.join("memory-cache").join("data"),
        &[],
    )
    .await?;
    let (_, open) = bench
        .throughput(page(
            "feed, anonymous, memory cache",
            &server.base,
            "/",
            0.50,
        ))
        .await?;
    let p99 = Row::new(
        "p99 of the cached feed at half its maximum rate (open loop)",
        format!("{:.2} ms", open.p99_ms),
        Target::MillisAtMost(5.0),
    );
    bench.push(
        p99.judge(open.p99_ms)
            .with_note(format!("{} req/s", thousands(f64::from(open.rate)))),
    );
    // The same at a quarter of the rate, where the load test and the server
    // do not fill the machine's two CPUs between them.
    let quarter = open.rate / 2;
    let lighter = bench.open(&server.base, "/", false, quarter).await?;
    let mut row = Row::new(
        "p99 of the cached feed at a quarter of its maximum rate (open loop)",
        format!("{:.2} ms", lighter.p99_ms),
        Target::None,
    );
    row.p50_ms = Some(lighter.p50_ms);
    row.p99_ms = Some(lighter.p99_ms);
    row.open_rate = Some(quarter);
    bench.push(row.with_note(format!("{} req/s", thousands(f64::from(quarter)))));

    let member = Browser::new(&server.base);
    member.log_in(&seed::username(1)).await?;
    bench
        .throughput(Case {
            name: "feed, logged in (cookie session), memory cache",
            base: &server.base,
            path: "/",
            headers: vec![member.cookie_header()?],
            log_in: true,
            reference: Reference::Hello,
            target: Target::RatioAtLeast(0.35),
        })
        .await?;

    // The same server with `log.level = "warn"`, measured in turn with the
    // default one, three times each, so that both see the same machine.
    let quiet = stack::serve(
        &bench.photoscale,
        &work,
        "memory-cache-warn",
        &config("warn"),
        &work.join("memory-cache-warn").join("data"),
        &[],
    )
    .await?;
    let (mut warn, mut info) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        warn.push(
            bench
                .closed(&quiet.base, "/", &[])
                .await?
                .requests_per_second,
        );
        info.push(
            bench
                .closed(&server.base, "/", &[])
                .await?
                .requests_per_second,
        );
    }
    let (warn, info) = (median(warn), median(info));
    let ratio = info / warn.max(1.0);
    let mut row = Row::new(
        "default logging (a line per request at info) against warn",
        format!("{} req/s", thousands(info)),
        Target::RatioAtLeast(0.90),
    );
    row.ratio = Some(ratio);
    row.reference = Some("warn".into());
    bench.push(row.judge(ratio).with_note(format!(
        "warn: {} req/s; medians of {ROUNDS} runs each, taken in turn",
        thousands(warn)
    )));
    quiet.process.stop().await;
    server.process.stop().await;
    Ok(())
}

/// Level 1: MariaDB without a cache, on one instance and through HAProxy.
pub async fn level_1(bench: &mut Bench, stack: &Stack) -> anyhow::Result<()> {
    let status = stack.up(1, &[]).await?;
    let base = instance_base(&status)?;
    bench.measure_hello("level 1").await?;
    bench
        .throughput(page(
            "feed, MariaDB, no cache (level-1 instance)",
            &base,
            "/",
            0.12,
        ))
        .await?;
    let url = status.url.context("level 1 has no load balancer URL")?;
    bench
        .throughput(informative(
            "feed through HAProxy, level 1 (2 instances, MariaDB, memcached sessions)",
            &url,
        ))
        .await?;
    Ok(())
}

/// Level 4: the feed cache in memcached, then in Redis.
pub async fn level_4(bench: &mut Bench, stack: &Stack) -> anyhow::Result<()> {
    let status = stack.up(4, &[]).await?;
    bench.measure_hello("level 4").await?;
    bench
        .throughput(page(
            "feed, memcached cache and sessions + MariaDB (level-4 instance)",
            &instance_base(&status)?,
            "/",
            0.30,
        ))
        .await?;
    let status = stack
        .up(4, &["--cache", "redis", "--sessions", "redis"])
        .await?;
    bench
        .throughput(page(
            "feed, Redis cache and sessions + MariaDB (level-4 instance)",
            &instance_base(&status)?,
            "/",
            0.30,
        ))
        .await?;
    Ok(())
}

/// Level 2 (photos in S3, presigned links) with an instance that adds the
/// memory cache; then level 3 through its load balancer.
pub async fn levels_2_and_3(bench: &mut Bench, stack: &Stack) -> anyhow::Result<()> {
    stack.up(2, &[]).await?;
    bench.measure_hello("levels 2 and 3").await?;
    let text = std::fs::read_to_string(stack.app_config())?;
    let mut config: toml::Table = text.parse().context("reading the stack's configuration")?;
    let mut cache = toml::Table::new();
    cache.insert("backend".into(), "memory".into());
    config.insert("cache".into(), cache.into());
    let work = bench.work.clone();
    let env = [
        ("AWS_ACCESS_KEY_ID", "photoscale".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", stack.s3_secret()?),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let server = stack::serve(
        &bench.photoscale,
        &work,
        "s3-memory-cache",
        &toml::to_string(&config)?,
        &work.join("s3-memory-cache").join("data"),
        &env,
    )
    .await?;
    bench
        .throughput(page(
            "feed with S3 storage (presigned links), memory cache",
            &server.base,
            "/",
            0.40,
        ))
        .await?;
    server.process.stop().await;

    let status = stack.up(3, &[]).await?;
    let url = status.url.context("level 3 has no load balancer URL")?;
    bench
        .throughput(informative(
            "feed through HAProxy, level 3 (S3 presigned links, autoscaler)",
            &url,
        ))
        .await?;
    Ok(())
}

/// A page case measured against hello world.
fn page<'a>(name: &'a str, base: &'a str, path: &'a str, target: f64) -> Case<'a> {
    Case {
        name,
        base,
        path,
        headers: Vec::new(),
        log_in: false,
        reference: Reference::Hello,
        target: Target::RatioAtLeast(target),
    }
}

/// A feed case shown for comparison, without a target.
fn informative<'a>(name: &'a str, base: &'a str) -> Case<'a> {
    Case {
        target: Target::None,
        ..page(name, base, "/", 0.0)
    }
}

fn instance_base(status: &stack::Status) -> anyhow::Result<String> {
    let first = status
        .instances
        .first()
        .context("the stack runs no instance")?;
    Ok(format!("http://{}", first.address))
}

fn first_photo_id(html: &str) -> Option<String> {
    let marker = "href=\"/photos/";
    let start = html.find(marker)? + marker.len();
    let id = html.get(start..start + 32)?;
    id.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| id.to_owned())
}
