//! `scripts/bench`: photoscale's hot paths measured against references
//! started in the same run (an actix-web hello world for pages, nginx for
//! photo bytes), so that every figure is a ratio that holds on a shared,
//! noisy machine. Prints one table and writes it, with the machine's
//! description, into `docs/benchmarks.md`.
//!
//! Everything runs on loopback: the stack's servers through `photoscale
//! infra up`, the rest started here. See README "Performance".

mod bench;
mod images;
mod loadtest;
mod machine;
mod memory;
mod memory_cases;
mod nginx;
mod phases;
mod process;
mod report;
mod seed;
mod stack;
mod wrk;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use bench::Bench;
use report::{thousands, Row, Target};

#[derive(Debug, Parser)]
#[command(about = "Measures photoscale's hot paths against reference servers in the same run")]
struct Args {
    /// Two seconds per case and ten of patience for memory to settle: proves
    /// the script works, measures little
    #[arg(long)]
    quick: bool,
    /// The photoscale binary under test (built with --features s3)
    #[arg(long, value_name = "PATH", required_unless_present = "seed")]
    photoscale: Option<PathBuf>,
    /// The photoscale whose `loadtest` drives the open loop (default: the one under test)
    #[arg(long, value_name = "PATH")]
    loadtest: Option<PathBuf>,
    /// The hello-world reference server
    #[arg(long, value_name = "PATH", required_unless_present = "seed")]
    hello: Option<PathBuf>,
    /// Only fill the photoscale at URL with the bench's data set (50 users,
    /// 200 photos), then stop: a realistic site to try things on
    #[arg(long, value_name = "URL")]
    seed: Option<String>,
    /// Which build is measured, for the report ("release" or "debug")
    #[arg(long, default_value = "release")]
    profile: String,
    /// Where the table goes (default: docs/benchmarks.md, or
    /// test-artifacts/bench/benchmarks.md with --quick)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Keep the work directory (logs, load test files) instead of removing it
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("photoscale-bench-")
        .tempdir()?;
    // nginx's workers and the stack's servers read from here.
    std::fs::set_permissions(
        work.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let cache = dirs_cache().join("photoscale-bench");
    println!("preparing photos in {}", cache.display());
    let images = images::prepare(&cache)?;
    if let Some(url) = &args.seed {
        seed::seed(url, 50, &images.files, 4).await?;
        println!(
            "seeded {url}: 50 users (password {:?}), {} photos",
            seed::PASSWORD,
            images.files.len()
        );
        return Ok(());
    }
    let photoscale = args
        .photoscale
        .clone()
        .context("--photoscale is required")?;
    let loadtest = args.loadtest.clone().unwrap_or_else(|| photoscale.clone());
    let mut bench = Bench::new(photoscale, loadtest, work.path().to_owned(), args.quick);
    println!("{}", report::header_line());
    let result = run(&mut bench, &args, &images).await;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if args.quick {
            "test-artifacts/bench/benchmarks.md"
        } else {
            "docs/benchmarks.md"
        })
    });
    write_report(&out, &bench, &args, started.elapsed(), result.is_err())?;
    if args.keep {
        println!("work directory kept: {}", work.keep().display());
    }
    result?;
    println!(
        "\nbenchmark finished in {:.0} s: {}; table in {}",
        started.elapsed().as_secs_f64(),
        report::tally(&bench.rows),
        out.display()
    );
    Ok(())
}

async fn run(bench: &mut Bench, args: &Args, images: &images::ImageSet) -> anyhow::Result<()> {
    let hello = start_hello(bench, args).await?;
    let first = bench.closed(&hello.1, "/", &[]).await?.requests_per_second;
    bench.hello_rps = first;
    bench.push(Row::new(
        "actix-web hello world (reference)",
        format!("{} req/s", thousands(first)),
        Target::None,
    ));
    let stack = stack::Stack::new(&bench.photoscale, &bench.work)?;
    let phases = async {
        phases::level_0(bench, &stack, images).await?;
        phases::level_1(bench, &stack).await?;
        phases::level_4(bench, &stack).await?;
        phases::levels_2_and_3(bench, &stack).await
    }
    .await;
    stack.down().await;
    phases?;
    // Hello again: the machine may have changed under the run.
    let last = bench.closed(&hello.1, "/", &[]).await?.requests_per_second;
    bench.push(
        Row::new(
            "actix-web hello world again, at the end (reference)",
            format!("{} req/s", thousands(last)),
            Target::None,
        )
        .with_note(format!(
            "ratios above use the first figure; the last differs by {:+.0} %",
            (last / first.max(1.0) - 1.0) * 100.0
        )),
    );
    hello.0.stop().await;
    Ok(())
}

async fn start_hello(bench: &Bench, args: &Args) -> anyhow::Result<(process::Running, String)> {
    let port = process::free_port()?;
    let program = args.hello.as_ref().context("--hello is required")?;
    let mut command = tokio::process::Command::new(program);
    command.arg(format!("127.0.0.1:{port}"));
    let mut hello = process::Running::start("hello", command, &bench.work)?;
    let base = format!("http://127.0.0.1:{port}");
    hello
        .wait_ready(&format!("{base}/"), Duration::from_secs(10))
        .await?;
    Ok((hello, base))
}

fn dirs_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
}

/// Writes the table between the markers of `out`, keeping the rest of the
/// file (the hand-written analysis) as it is.
fn write_report(
    out: &std::path::Path,
    bench: &Bench,
    args: &Args,
    took: Duration,
    failed: bool,
) -> anyhow::Result<()> {
    const BEGIN: &str = "<!-- scripts/bench writes from here -->";
    const END: &str = "<!-- scripts/bench writes up to here -->";
    let mode = if args.quick {
        "`scripts/bench --quick`"
    } else {
        "`scripts/bench`"
    };
    let status = if failed {
        " It stopped early on an error; the table is partial."
    } else {
        ""
    };
    let generated = format!(
        "{BEGIN}\n{}\n- run: {mode}, {:.0} s; wrk -t{} -c{} for {} s per case; open loop ({}) for {} s at half the closed-loop rate.{status}\n\n{}\n{END}",
        machine::describe(&args.profile),
        took.as_secs_f64(),
        bench.wrk.threads,
        bench.wrk.connections,
        bench.wrk.duration.as_secs(),
        "photoscale loadtest --rate",
        bench.open_duration.as_secs(),
        report::markdown_table(&bench.rows),
    );
    let existing = std::fs::read_to_string(out).unwrap_or_default();
    let text = match (existing.find(BEGIN), existing.find(END)) {
        (Some(b), Some(e)) if b < e => format!(
            "{}{generated}{}",
            &existing[..b],
            &existing[e + END.len()..]
        ),
        _ => format!("# Benchmarks\n\n{generated}\n"),
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))
}
