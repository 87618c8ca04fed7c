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

#[derive(Debug, Parser)]
#[command(about = "Measures photoscale's hot paths against reference servers in the same run")]
struct Args {
    /// Two seconds per case and ten of patience for memory to settle: proves
    /// the script works, measures little
    #[arg(long)]
    quick: bool,
    /// The photoscale binary under test (a release build)
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
async fn main() -> std::process::ExitCode {
    match bench_main(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The cause chain, not anyhow's Debug form: with RUST_BACKTRACE
            // set (as CI sets it) that is a backtrace that buries the message.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench_main(args: Args) -> anyhow::Result<()> {
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
    if let Err(error) = result {
        // What the servers said is the first thing anyone needs then.
        print_log_tails(work.path());
        println!("work directory kept: {}", work.keep().display());
        return Err(error);
    }
    if args.keep {
        println!("work directory kept: {}", work.keep().display());
    }
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
    bench.hello_base = hello.1.clone();
    let stack = stack::Stack::new(&bench.photoscale, &bench.work)?;
    let phases = async {
        phases::level_0(bench, &stack, images).await?;
        phases::level_1(bench, &stack).await?;
        phases::level_4(bench, &stack).await?;
        phases::levels_2_and_3(bench, &stack).await
    }
    .await;
    stack.down().await;
    hello.0.stop().await;
    phases
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

/// Prints the last lines of every log file under `work`, for a failed run.
fn print_log_tails(work: &std::path::Path) {
    const LINES: usize = 12;
    let logs = walk_logs(work);
    for log in logs {
        let Ok(text) = std::fs::read_to_string(&log) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            continue;
        }
        println!("--- last lines of {}", log.display());
        for line in &lines[lines.len().saturating_sub(LINES)..] {
            println!("{line}");
        }
    }
}

fn walk_logs(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk_logs(&path));
        } else if path.extension().is_some_and(|e| e == "log") {
            found.push(path);
        }
    }
    found.sort();
    found
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
