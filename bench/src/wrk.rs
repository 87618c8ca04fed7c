//! wrk, the closed-loop load: as many requests as `connections` clients can
//! send back to back. Its output is parsed for throughput, latency
//! percentiles and anything that was not a success.

use std::time::Duration;
use tokio::process::Command;

use anyhow::{bail, Context};

#[derive(Debug, Clone, Copy)]
pub struct WrkOptions {
    pub threads: u32,
    pub connections: u32,
    pub duration: Duration,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrkResult {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes read per second, as wrk reports it.
    pub bytes_per_second: f64,
    /// Non-2xx/3xx responses plus socket errors.
    pub errors: u64,
}

/// Runs wrk against `url`, with `headers` ("Name: value") on every request.
pub async fn run(options: WrkOptions, url: &str, headers: &[String]) -> anyhow::Result<WrkResult> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", options.threads))
        .arg(format!("-c{}", options.connections))
        .arg(format!("-d{}s", options.duration.as_secs().max(1)))
        .arg("--latency");
    for header in headers {
        command.arg("-H").arg(header);
    }
    let output = command
        .arg(url)
        .output()
        .await
        .context("running wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed on {url}: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse(&text).with_context(|| format!("reading wrk's report for {url}:\n{text}"))
}

/// Reads wrk's text report (as printed with `--latency`).
pub fn parse(text: &str) -> anyhow::Result<WrkResult> {
    let mut result = WrkResult::default();
    let mut saw_rate = false;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => {
                result.requests_per_second = rate.parse()?;
                saw_rate = true;
            }
            ["Transfer/sec:", amount] => result.bytes_per_second = bytes(amount)?,
            ["50%", latency] => result.p50_ms = millis(latency)?,
            ["99%", latency] => result.p99_ms = millis(latency)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => result.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                result.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    if !saw_rate {
        bail!("no Requests/sec line");
    }
    Ok(result)
}

/// "812.00us", "1.23ms", "2.01s" → milliseconds.
fn millis(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .context("a latency without a unit")?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => bail!("unknown latency unit {other:?}"),
    })
}

/// "4.21GB", "17.5MB", "812.3KB", "12B" → bytes.
fn bytes(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .context("an amount without a unit")?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    let scale = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("unknown unit {other:?}"),
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 2s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.33us  201.50us   4.10ms   80.12%
    Req/Sec    38.21k     2.10k   41.00k    75.00%
  Latency Distribution
     50%  380.00us
     75%  480.00us
     90%  610.00us
     99%    1.21ms
  152000 requests in 2.00s, 1.52GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  75980.12
Transfer/sec:    775.50MB
";

    #[test]
    fn reads_rate_percentiles_and_errors() {
        let r = parse(REPORT).unwrap();
        assert_eq!(r.requests_per_second, 75980.12);
        assert_eq!(r.p50_ms, 0.38);
        assert_eq!(r.p99_ms, 1.21);
        assert_eq!(r.errors, 7);
        assert_eq!(r.bytes_per_second, 775.5 * 1024.0 * 1024.0);
    }

    #[test]
    fn a_report_without_a_rate_is_an_error() {
        assert!(parse("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }
}
