//! Progress of long steps: a spinner per component on a terminal (saying what
//! it waits for), plain lines otherwise (logs, CI, tests).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Spinners when stderr is a terminal.
    pub fn new() -> Self {
        Self {
            multi: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    /// Starts showing a step for `name`.
    pub fn step(&self, name: &str, doing: &str) -> Step {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {prefix:<10} {msg} ({elapsed})")
                    .expect("valid template"),
            );
            bar.set_prefix(name.to_owned());
            bar.set_message(doing.to_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Step {
            bar,
            name: name.to_owned(),
            started: Instant::now(),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Step {
    bar: Option<ProgressBar>,
    name: String,
    started: Instant,
}

impl Step {
    /// Says what the step is waiting for now.
    pub fn waiting(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("waiting for {what}"));
        }
    }

    pub fn done(self, result: &str) {
        self.finish("ok", result);
    }

    pub fn failed(self, result: &str) {
        self.finish("FAILED", result);
    }

    fn finish(self, mark: &str, result: &str) {
        let line = format!(
            "  {mark:<6} {:<10} {result} ({:.1} s)",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
        match self.bar {
            Some(bar) => {
                bar.set_style(ProgressStyle::with_template("{msg}").expect("valid template"));
                bar.finish_with_message(line);
            }
            None => eprintln!("{line}"),
        }
    }
}
