//! Logging: `tracing` events to stdout, as text for people or JSON for machines.
//!
//! Lines are formatted on the thread that logs them and written by a
//! background thread in batches (`log_writer`), so a slow terminal or pipe
//! never stalls a request and a busy instance spends no system call per line.

use tracing_subscriber::{fmt, EnvFilter};

use crate::configuration::LogFormat;
use crate::log_writer::{batched_stdout, WriterGuard};

/// Keeps the log writer alive: hold it until the program ends, so the lines
/// still buffered are written out when it is dropped.
#[must_use = "logs written after the guard is dropped are lost"]
pub struct LogGuard {
    _writer: Option<WriterGuard>,
}

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `level`.
/// Calling it twice (as tests do) keeps the first subscriber.
pub fn init(format: LogFormat, level: &str) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let (writer, guard) = batched_stdout();
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // An error only means a subscriber is already installed.
    LogGuard {
        _writer: result.is_ok().then_some(guard),
    }
}
