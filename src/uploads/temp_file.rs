//! A temporary file holding an upload while it is checked. It is removed when
//! dropped unless it was moved into storage, so no failure path leaves it behind.

use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct TempUpload {
    path: PathBuf,
    armed: bool,
}

impl TempUpload {
    /// A fresh, unique path in `dir` (the file itself is created by the caller).
    pub fn new_in(dir: &Path) -> Self {
        let name = format!("upload-{}.part", uuid::Uuid::new_v4().simple());
        Self {
            path: dir.join(name),
            armed: true,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Storage has taken the file; nothing to clean up.
    pub fn mark_moved(mut self) {
        self.armed = false;
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let path = std::mem::take(&mut self.path);
        // Removal is file I/O: keep it off the async workers when we can.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(move || remove_quietly(&path));
            }
            Err(_) => remove_quietly(&path),
        }
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not remove temporary upload");
        }
    }
}
