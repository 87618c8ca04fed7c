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

/// Call once, first thing in `main`, before other threads start.
pub fn give_large_blocks_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any other
    // thread exists, so no allocation races with it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
