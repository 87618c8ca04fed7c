//! A 10 MiB upload must not cost 10 MiB of heap beyond one buffered copy,
//! and never several copies: the body streams to a temporary file, then to
//! storage (a file rename, or S3 from the file).
//!
//! A counting allocator measures the peak heap of this whole process (the
//! app runs in it) while one upload goes through. Its own binary, so no other
//! test allocates at the same time.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/images.rs"]
mod images;
#[allow(dead_code, unused_imports)]
#[path = "api/services/mod.rs"]
mod services;

use helpers::Site;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;

/// A small JPEG padded with comment segments to `size` bytes: large on the
/// wire, tiny to decode, so the figure is about the upload path alone.
fn padded_jpeg(size: usize) -> Vec<u8> {
    let small = images::jpeg(64, 64);
    let mut out = small[..2].to_vec(); // SOI
    while out.len() + 65_537 + small.len() < size {
        out.extend_from_slice(&[0xFF, 0xFE, 0xFF, 0xFF]);
        out.extend(std::iter::repeat_n(b'x', 65_533));
    }
    out.extend_from_slice(&small[2..]);
    out
}

/// Peak heap growth while one upload of `bytes` goes through `app`.
async fn upload_peak(app: &helpers::TestApp, bytes: Vec<u8>) -> usize {
    app.sign_up("mia").await;
    let token = app.csrf_token("/upload").await;
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let response = app
        .upload_with(Some(&token), bytes, "big.jpg", "image/jpeg", "")
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap()
    );
    PEAK.load(Ordering::Relaxed) - baseline
}

fn check(backend: &str, size: usize, peak: usize) {
    println!(
        "{backend}: a {:.1} MiB upload raised the heap by at most {:.1} MiB",
        size as f64 / MIB as f64,
        peak as f64 / MIB as f64
    );
    // The client sends from the buffer it already holds (allocated before
    // the baseline). The allowance is one buffered copy plus 2 MiB of
    // working memory; a second copy anywhere would exceed it.
    assert!(
        peak < size + 2 * MIB,
        "{backend}: peak {peak} for {size} bytes"
    );
}

#[tokio::test]
async fn ten_mib_upload_needs_at_most_one_copy_of_heap() {
    let size = 10 * MIB - 64 * 1024;
    let local = helpers::spawn_app().await;
    let peak = upload_peak(&local, padded_jpeg(size)).await;
    check("local", size, peak);

    {
        let bucket = services::s3_bucket().await;
        let app = helpers::spawn_app_with(|s| bucket.configure(s)).await;
        let peak = upload_peak(&app, padded_jpeg(size)).await;
        check("s3", size, peak);
        assert_eq!(bucket.keys().await.len(), 2);
    }
}
