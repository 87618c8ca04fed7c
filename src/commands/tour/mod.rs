//! `photoscale tour`: the whole ladder on this machine in one command. It
//! checks (and on a yes installs) what the ladder needs, points at the
//! stack's fleet view (every level has one, on the 16th port), then at each level says in plain sentences what
//! changes and why, brings the level up and shows it working, counted over
//! real requests: level 0; level 1 broken, then fixed; level 2; level 3
//! scaling out and in and healing; level 4's cache. At the end everything
//! is stopped (unless `--keep`). `--auto` runs unattended and writes a
//! report (`tour-report/summary.json` and `index.html`).

mod cache;
mod install;
mod ladder;
mod outcome;
mod report;
mod scaling;
mod stack;
mod visitor;

use std::path::PathBuf;
use std::time::Instant;

use stack::TourStack;

#[derive(Debug, clap::Args)]
pub struct TourArgs {
    /// Run unattended (no Enter between steps) and write the report
    #[arg(long)]
    pub auto: bool,
    /// With --auto: install what is missing (Debian packages) without asking
    #[arg(long, requires = "auto")]
    pub install: bool,
    /// Leave the last level running at the end
    #[arg(long)]
    pub keep: bool,
    /// The first port of the tour's stack (the site; the stack uses the next 14, the fleet view the 15th)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The tour's own state directory
    #[arg(long, value_name = "DIR", default_value = ".photoscale-tour")]
    pub state_dir: PathBuf,
    /// Where --auto writes summary.json and index.html
    #[arg(long, value_name = "DIR", default_value = "tour-report")]
    pub out: PathBuf,
}

/// A step: its title, what a person is told before it runs, and the run.
struct Step {
    title: &'static str,
    explain: &'static str,
}

const STEPS: [Step; 6] = [
    Step {
        title: "level 0: one server",
        explain: "One photoscale process does everything: pages, SQLite, photos on its own disk. \
                  It is how most apps start, and it works until one machine is not enough.",
    },
    Step {
        title: "level 1, broken: two servers behind a load balancer, each on its own",
        explain: "HAProxy spreads requests over two instances and the database is shared, but each \
                  instance keeps sessions in its memory and photos on its disk. Watch a login that \
                  does not hold and a photo that is missing on the other instance.",
    },
    Step {
        title: "level 1, fixed: shared sessions and files",
        explain: "Sessions move to memcached and photos to one directory both instances mount (the \
                  NFS of the classic setup). Any instance can now answer any request.",
    },
    Step {
        title: "level 2: photos in S3",
        explain: "Photos move into an S3-compatible server, and the browser fetches them from it \
                  through signed links: the instances no longer serve or store photo bytes.",
    },
    Step {
        title: "level 3: the fleet scales itself",
        explain: "An autoscaler watches the load balancer's response time. A load starts, one \
                  instance turns slow, the alarm fires and an instance is added; when latency \
                  returns to normal the fleet shrinks; a killed instance is replaced. The tutorial's \
                  minutes are shortened to seconds here.",
    },
    Step {
        title: "level 4: a cache in front of the database",
        explain: "The feed is read through memcached, and an upload invalidates it. The same load \
                  is measured without and with the cache: database reads a second and hit ratio.",
    },
];

pub async fn run(options: TourArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    install::ensure_ready(options.auto, options.install).await?;
    let stack = TourStack::new(options.state_dir.clone(), options.port)?;
    println!(
        "\nThe fleet view, for the whole tour: http://127.0.0.1:{}/fleet\nThe site: {}\n",
        options.port + 15,
        stack.url()
    );
    let mut outcomes = Vec::new();
    let mut load = None;
    let mut scale_out = None;
    let mut stopped = None;
    for (n, step) in STEPS.iter().enumerate() {
        println!(
            "== Step {} of {}: {}\n{}\n",
            n + 1,
            STEPS.len(),
            step.title,
            wrap(step.explain)
        );
        set_tour_step(
            &options.state_dir,
            &format!("step {} of {}: {}", n + 1, STEPS.len(), step.title),
        );
        if !options.auto && !go_on().await {
            stopped = Some("stopped by the user".to_owned());
            break;
        }
        let result = match n {
            0 => ladder::level_0(&stack).await,
            1 => ladder::level_1_broken(&stack).await,
            2 => ladder::level_1_fixed(&stack).await,
            3 => ladder::level_2(&stack).await,
            4 => scaling::level_3(&stack)
                .await
                .map(|(outcome, report, added_at)| {
                    scale_out = added_at.map(|at| (at - started).as_secs_f64());
                    load = Some(report);
                    outcome
                }),
            _ => cache::level_4(&stack).await,
        };
        match result {
            Ok(outcome) => {
                outcome.print();
                outcomes.push(outcome);
            }
            Err(e) => {
                println!("  -> this step failed: {e:#}");
                stopped = Some(format!("{}: {e:#}", step.title));
                break;
            }
        }
    }
    set_tour_step(&options.state_dir, "the tour is over");
    if options.keep {
        println!("\nThe stack keeps running (--keep): {}; stop it with `photoscale infra down --state-dir {}`", stack.url(), options.state_dir.display());
    } else {
        println!("\nStopping everything the tour started...");
        stack.down(true).await?;
    }
    let summary = report::Summary {
        all_as_expected: stopped.is_none() && outcomes.iter().all(|o| o.as_expected),
        took_s: started.elapsed().as_secs_f64(),
        scale_out_after_s: scale_out,
        steps: outcomes,
        stopped,
    };
    if options.auto {
        let files = report::write(&options.out, &summary, load.as_ref())?;
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        println!("The tour's report: {}", names.join(", "));
    }
    anyhow::ensure!(
        summary.all_as_expected,
        "the tour did not go as expected: {}",
        summary
            .stopped
            .as_deref()
            .unwrap_or("see the steps marked NOT as expected")
    );
    println!(
        "The tour is over: every step behaved as expected ({:.0} s).",
        summary.took_s
    );
    Ok(())
}

/// Enter goes on; `q` (or the end of input) stops.
async fn go_on() -> bool {
    match answer("[Enter: go on, q: stop and clean up] ").await {
        Some(line) => !line.trim().eq_ignore_ascii_case("q"),
        None => false,
    }
}

/// Prints `prompt` and reads a line from the terminal (on a blocking
/// thread: stdin has no async reader here); None at the end of input.
pub(crate) async fn answer(prompt: &str) -> Option<String> {
    use std::io::Write;
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    })
    .await
    .ok()
    .flatten()
}

/// The step the tour is on, for the fleet view.
static CURRENT_STEP: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// What the fleet view shows as the tour's current step.
fn set_tour_step(state_dir: &std::path::Path, text: &str) {
    *CURRENT_STEP.lock().unwrap_or_else(|p| p.into_inner()) = text.to_owned();
    write_tour_step(state_dir);
}

fn write_tour_step(state_dir: &std::path::Path) {
    let text = CURRENT_STEP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    crate::commands::fleet::tour_step::write(state_dir, &text);
}

fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for word in text.split_whitespace() {
        if width + word.len() > 76 && width > 0 {
            out.push('\n');
            width = 0;
        } else if width > 0 {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += word.len();
    }
    out
}

/// A small PNG (a gradient) for the tour's uploads, different each time so
/// that no two uploads are the same photo.
pub fn png() -> Vec<u8> {
    use image::{ImageBuffer, Rgb};
    let seed = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        % 200) as u8;
    let img: ImageBuffer<Rgb<u8>, Vec<u8>> =
        ImageBuffer::from_fn(96, 64, |x, y| Rgb([x as u8 * 2, y as u8 * 3, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG encodes into memory");
    out.into_inner()
}
