//! Memory that a burst takes is given back when the burst ends.
//!
//! glibc's malloc serves large blocks (an argon2 hash's 19 MiB, a decoded
//! photo) with mmap and unmaps them on free, but only until the first such
//! block is freed: then it raises its mmap threshold to that size and serves
//! later ones from its heaps, which it rarely returns. A burst of eight
//! logins left an instance at 550 MB for good. Fixing the threshold turns
//! that adjustment off, so every block of 128 KiB or more goes back to the
//! system as soon as it is freed. (Measured against mimalloc, which kept
//! 76 to 280 MB after the same burst.)
//!
//! Smaller blocks (connection buffers, above all) come from malloc's heaps,
//! and a burst of connections leaves those heaps full of free holes that
//! the system still counts as ours: 360 MB after a load test that opened
//! thousands of connections. A background thread hands such free memory
//! back (`malloc_trim`) every few seconds, when there is enough of it to
//! matter.

use std::time::Duration;

/// How often free heap memory is looked at.
const TRIM_EVERY: Duration = Duration::from_secs(5);
/// Free memory in malloc's heaps below this is left alone.
const TRIM_ABOVE: usize = 8 * 1024 * 1024;

/// Call once, first thing in `main`, before other threads start.
pub fn give_large_blocks_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any other
    // thread exists, so no allocation races with it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Starts the thread that returns free heap memory after bursts (for the
/// life of the process; a server has nothing else to do with it).
pub fn keep_giving_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::thread::Builder::new()
            .name("photoscale-trim".into())
            .spawn(|| loop {
                std::thread::sleep(TRIM_EVERY);
                trim_if_worth_it();
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "could not start the memory trimmer");
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_if_worth_it() {
    // SAFETY: both only read or adjust malloc's own bookkeeping; glibc
    // takes its arena locks itself.
    unsafe {
        let info = libc::mallinfo2();
        if info.fordblks > TRIM_ABOVE {
            libc::malloc_trim(0);
        }
    }
}
