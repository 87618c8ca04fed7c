//! The measuring context every case shares: how long to load, where the
//! references stand, and the rows so far.

use std::path::PathBuf;
use std::time::Duration;

use crate::loadtest::{Arrivals, Loadtest, LoadtestResult};
use crate::report::{self, thousands, Row, Target};
use crate::wrk::{self, WrkOptions, WrkResult};

pub struct Bench {
    pub photoscale: PathBuf,
    /// The `photoscale` whose `loadtest` drives the open loop.
    pub loadtest: PathBuf,
    pub work: PathBuf,
    pub wrk: WrkOptions,
    /// Length of each open-loop run.
    pub open_duration: Duration,
    /// How long memory may take to come back after a burst.
    pub settle_patience: Duration,
    pub quick: bool,
    /// Where the hello-world reference listens.
    pub hello_base: String,
    /// Its requests per second, measured at the start of the current phase.
    pub hello_rps: f64,
    pub rows: Vec<Row>,
    runs: u32,
}

/// What a throughput case is compared with.
pub enum Reference {
    Hello,
    /// A figure measured just before (nginx on the same file, or the same
    /// server with another setting), with its name.
    Measured(&'static str, f64),
}

/// One throughput case: a URL loaded by wrk, then at half that rate by the
/// open loop.
pub struct Case<'a> {
    pub name: &'a str,
    pub base: &'a str,
    pub path: &'a str,
    /// Extra request headers for wrk ("Cookie: ...").
    pub headers: Vec<String>,
    /// The open loop logs its clients in (for member pages).
    pub log_in: bool,
    pub reference: Reference,
    pub target: Target,
}

impl Bench {
    pub fn new(photoscale: PathBuf, loadtest: PathBuf, work: PathBuf, quick: bool) -> Self {
        let seconds = if quick { 2 } else { 8 };
        Self {
            photoscale,
            loadtest,
            work,
            wrk: WrkOptions {
                threads: 2,
                connections: 32,
                duration: Duration::from_secs(seconds),
            },
            open_duration: Duration::from_secs(if quick { 2 } else { 5 }),
            settle_patience: Duration::from_secs(if quick { 10 } else { 60 }),
            quick,
            hello_base: String::new(),
            hello_rps: 0.0,
            rows: Vec::new(),
            runs: 0,
        }
    }

    /// Measures the hello-world reference again, for the cases that follow:
    /// on a shared machine the rate drifts over minutes (a quarter, seen in
    /// one run), so each phase's ratios use a figure from its own start.
    pub async fn measure_hello(&mut self, for_cases: &str) -> anyhow::Result<()> {
        let base = self.hello_base.clone();
        let rps = self.closed(&base, "/", &[]).await?.requests_per_second;
        self.hello_rps = rps;
        self.push(Row::new(
            &format!("actix-web hello world (reference for {for_cases})"),
            format!("{} req/s", thousands(rps)),
            Target::None,
        ));
        Ok(())
    }

    /// Adds a finished row and prints it.
    pub fn push(&mut self, row: Row) {
        println!("{}", report::line(&row));
        self.rows.push(row);
    }

    /// Closed loop only: requests per second (and wrk's own latencies).
    pub async fn closed(
        &self,
        base: &str,
        path: &str,
        headers: &[String],
    ) -> anyhow::Result<WrkResult> {
        wrk::run(self.wrk, &format!("{base}{path}"), headers).await
    }

    /// Latency at a fixed rate, from `photoscale loadtest --rate`.
    pub async fn open(
        &mut self,
        base: &str,
        path: &str,
        log_in: bool,
        rate: u32,
    ) -> anyhow::Result<LoadtestResult> {
        self.loadtest(
            base,
            Some(path),
            log_in,
            Arrivals::Rate(rate),
            self.open_duration,
        )
        .await
    }

    pub async fn loadtest(
        &mut self,
        base: &str,
        path: Option<&str>,
        log_in: bool,
        arrivals: Arrivals,
        duration: Duration,
    ) -> anyhow::Result<LoadtestResult> {
        self.runs += 1;
        Loadtest {
            photoscale: &self.loadtest,
            url: base,
            path,
            log_in,
            arrivals,
            duration,
            out: self.work.join("loadtest").join(self.runs.to_string()),
        }
        .run()
        .await
    }

    /// Measures `case` both ways, adds its row and returns both results.
    pub async fn throughput(
        &mut self,
        case: Case<'_>,
    ) -> anyhow::Result<(WrkResult, LoadtestResult)> {
        let closed = self.closed(case.base, case.path, &case.headers).await?;
        let rate = (closed.requests_per_second / 2.0).round() as u32;
        let open = self.open(case.base, case.path, case.log_in, rate).await?;
        let mut row = Row::new(
            case.name,
            format!("{} req/s", thousands(closed.requests_per_second)),
            case.target,
        );
        row.p50_ms = Some(open.p50_ms);
        row.p99_ms = Some(open.p99_ms);
        row.open_rate = Some(rate);
        let (name, rps) = match case.reference {
            Reference::Hello => ("hello", self.hello_rps),
            Reference::Measured(name, rps) => (name, rps),
        };
        let figure = closed.requests_per_second / rps.max(1.0);
        row.ratio = Some(figure);
        row.reference = Some(name.to_owned());
        row = row
            .judge(figure)
            .with_note(format!("open loop at {} req/s", thousands(f64::from(rate))));
        row = row.with_note(problems(&closed, &open));
        self.push(row);
        Ok((closed, open))
    }
}

/// Errors and a load generator that fell behind, for the notes.
fn problems(closed: &WrkResult, open: &LoadtestResult) -> String {
    let mut notes = Vec::new();
    if closed.errors > 0 {
        notes.push(format!("{} wrk errors", closed.errors));
    }
    if open.errors > 0 {
        notes.push(format!("{} open-loop errors", open.errors));
    }
    if open.achieved_per_second < 0.9 * f64::from(open.rate) {
        notes.push(format!(
            "open loop reached only {} req/s",
            thousands(open.achieved_per_second)
        ));
    }
    notes.join("; ")
}
