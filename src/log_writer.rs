//! Where log lines go: standard output, written by a background thread in
//! batches, so that logging never blocks a worker and costs a worker no
//! system call and no thread wake-up.
//!
//! A worker appends its formatted line to a shared buffer (a copy under a
//! short lock) and goes on. The writer thread wakes every `FLUSH_EVERY`,
//! takes the whole buffer and writes it in one call. (tracing-appender's
//! non-blocking writer queues lines too, but its thread sleeps on the
//! queue, so every line logged while it sleeps wakes it: one futex call
//! and two context switches per request.) If output stalls (a full pipe)
//! and the buffer reaches `MAX_BUFFERED`, new lines are dropped and
//! counted, and the count is written once output moves again.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Buffered bytes past which lines are dropped instead of queued.
const MAX_BUFFERED: usize = 4 * 1024 * 1024;

struct Shared {
    lines: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stopping: AtomicBool,
    /// Wakes the writer early, at shutdown.
    stop: Condvar,
}

/// Cloned into the subscriber: each event's line goes into the buffer.
#[derive(Clone)]
pub struct BatchedStdout {
    shared: Arc<Shared>,
}

/// Stops the writer thread and writes what is left when dropped.
pub struct WriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer and the guard that must live as long as logging does.
pub fn batched_stdout() -> (BatchedStdout, WriterGuard) {
    let shared = Arc::new(Shared {
        lines: Mutex::new(Vec::with_capacity(16 * 1024)),
        dropped: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        stop: Condvar::new(),
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("photoscale-log".into())
            .spawn(move || write_until_stopped(&shared, &mut std::io::stdout()))
            .ok()
    };
    (
        BatchedStdout {
            shared: shared.clone(),
        },
        WriterGuard { shared, thread },
    )
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.stop.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_until_stopped(shared: &Shared, out: &mut impl Write) {
    let mut spare = Vec::with_capacity(16 * 1024);
    loop {
        let mut lines = lock(&shared.lines);
        if !shared.stopping.load(Ordering::Acquire) {
            lines = match shared.stop.wait_timeout(lines, FLUSH_EVERY) {
                Ok((lines, _)) => lines,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let stopping = shared.stopping.load(Ordering::Acquire);
        std::mem::swap(&mut *lines, &mut spare);
        drop(lines);
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        // A failing stdout (closed pipe) is not something a log can report.
        let _ = out.write_all(&spare);
        if dropped > 0 {
            let _ = writeln!(
                out,
                "photoscale: {dropped} log lines dropped: output was too slow"
            );
        }
        let _ = out.flush();
        spare.clear();
        if spare.capacity() > 1024 * 1024 {
            spare.shrink_to(16 * 1024);
        }
        if stopping {
            return;
        }
    }
}

fn lock(lines: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    lines
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Write for BatchedStdout {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut lines = lock(&self.shared.lines);
        if lines.len() + line.len() > MAX_BUFFERED {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            lines.extend_from_slice(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = BatchedStdout;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_in_order_and_a_full_buffer_drops_and_counts() {
        let shared = Arc::new(Shared {
            lines: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
            stopping: AtomicBool::new(true),
            stop: Condvar::new(),
        });
        let mut writer = BatchedStdout {
            shared: shared.clone(),
        };
        writer.write_all(b"one\n").unwrap();
        writer.write_all(b"two\n").unwrap();
        writer.write_all(&vec![b'x'; MAX_BUFFERED]).unwrap();
        let mut out = Vec::new();
        write_until_stopped(&shared, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "one\ntwo\nphotoscale: 1 log lines dropped: output was too slow\n"
        );
    }
}
