//! The benchmark's one table: every case with its figure, its ratio to the
//! reference measured in the same run, its target and whether it met it.
//! Printed as it goes and written, with the machine's description, to
//! `docs/benchmarks.md`.

use std::fmt::Write;

/// What a case must reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// At least this fraction of the reference's requests per second.
    RatioAtLeast(f64),
    /// At most this many milliseconds.
    MillisAtMost(f64),
    /// At most this many MiB.
    MibAtMost(f64),
    /// At most this many seconds.
    SecondsAtMost(f64),
    /// Reported only.
    None,
}

impl Target {
    fn describe(self, reference: Option<&str>) -> String {
        match self {
            Target::RatioAtLeast(r) => format!("≥ {r:.2} × {}", reference.unwrap_or("reference")),
            Target::MillisAtMost(ms) => format!("≤ {ms} ms"),
            Target::MibAtMost(mib) => format!("≤ {mib} MB"),
            Target::SecondsAtMost(s) => format!("within {s} s"),
            Target::None => "(reported)".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Short,
    Info,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Short => "short",
            Verdict::Info => "",
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: String,
    /// The figure itself: "54,200 req/s", "18.4 MB", "31 ms".
    pub value: String,
    /// Open-loop latency at a fixed rate (ms), with that rate.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub open_rate: Option<u32>,
    /// The figure over the reference's, when the target is a ratio.
    pub ratio: Option<f64>,
    pub reference: Option<String>,
    pub target: Target,
    pub verdict: Verdict,
    /// Errors, caveats, how it was measured.
    pub note: String,
}

impl Row {
    pub fn new(case: &str, value: String, target: Target) -> Self {
        Self {
            case: case.to_owned(),
            value,
            p50_ms: None,
            p99_ms: None,
            open_rate: None,
            ratio: None,
            reference: None,
            target,
            verdict: Verdict::Info,
            note: String::new(),
        }
    }

    /// Decides the verdict from a ratio or a plain figure.
    pub fn judge(mut self, figure: f64) -> Self {
        self.verdict = match self.target {
            Target::RatioAtLeast(min) => pass_if(figure >= min),
            Target::MillisAtMost(max) | Target::MibAtMost(max) | Target::SecondsAtMost(max) => {
                pass_if(figure <= max)
            }
            Target::None => Verdict::Info,
        };
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        if !note.is_empty() {
            if !self.note.is_empty() {
                self.note.push_str("; ");
            }
            self.note.push_str(&note);
        }
        self
    }
}

fn pass_if(ok: bool) -> Verdict {
    if ok {
        Verdict::Pass
    } else {
        Verdict::Short
    }
}

/// "54,213"
pub fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "".to_owned(), |v| format!("{v:.2}"))
}

fn cells(row: &Row) -> [String; 8] {
    let ratio = row.ratio.map_or_else(String::new, |r| format!("{r:.2}"));
    let p = |v| match row.open_rate {
        Some(_) => ms(v),
        None => String::new(),
    };
    [
        row.case.clone(),
        row.value.clone(),
        p(row.p50_ms),
        p(row.p99_ms),
        ratio,
        row.target.describe(row.reference.as_deref()),
        row.verdict.word().to_owned(),
        row.note.clone(),
    ]
}

const HEADER: [&str; 8] = [
    "case", "measured", "p50 ms", "p99 ms", "ratio", "target", "verdict", "notes",
];

/// One row as the terminal shows it while the run goes on.
pub fn line(row: &Row) -> String {
    let c = cells(row);
    format!(
        "{:<52} {:>16} {:>7} {:>7} {:>6}  {:<22} {:<5} {}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    )
}

pub fn header_line() -> String {
    let h = HEADER;
    format!(
        "{:<52} {:>16} {:>7} {:>7} {:>6}  {:<22} {:<5} {}",
        h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    )
}

/// The table as Markdown.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADER.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADER.len()));
    for row in rows {
        let c = cells(row).map(|cell| cell.replace('|', "\\|"));
        let _ = writeln!(out, "| {} |", c.join(" | "));
    }
    out
}

/// "12 pass, 3 short"
pub fn tally(rows: &[Row]) -> String {
    let count = |v| rows.iter().filter(|r| r.verdict == v).count();
    format!(
        "{} pass, {} short",
        count(Verdict::Pass),
        count(Verdict::Short)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_target() {
        let ratio = Row::new("a", "1".into(), Target::RatioAtLeast(0.5));
        assert_eq!(ratio.clone().judge(0.51).verdict, Verdict::Pass);
        assert_eq!(ratio.judge(0.49).verdict, Verdict::Short);
        let mem = Row::new("b", "1".into(), Target::MibAtMost(20.0));
        assert_eq!(mem.clone().judge(19.0).verdict, Verdict::Pass);
        assert_eq!(mem.judge(21.0).verdict, Verdict::Short);
        let info = Row::new("c", "1".into(), Target::None);
        assert_eq!(info.judge(1.0).verdict, Verdict::Info);
    }

    #[test]
    fn numbers_and_tables_read_well() {
        assert_eq!(thousands(54213.4), "54,213");
        assert_eq!(thousands(999.0), "999");
        let row = Row::new("feed | memory", "1 req/s".into(), Target::None);
        let table = markdown_table(&[row]);
        assert!(table.contains("feed \\| memory"), "{table}");
        assert_eq!(table.lines().count(), 3);
    }
}
