//! Photos in a directory. Writes go to a temporary name in the destination
//! directory and are renamed into place, so a reader never sees half a file and
//! several instances can share the directory (e.g. over NFS) safely.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::io::ReaderStream;

use super::{validate_key, Listed, ObjectBody, StorageError};

#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub async fn open(root: PathBuf) -> std::io::Result<Self> {
        tokio::fs::create_dir_all(&root).await?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    pub async fn put_file(&self, key: &str, source: &Path) -> Result<(), StorageError> {
        let dest = self.path_of(key)?;
        let io = |source| StorageError::Io {
            key: key.to_owned(),
            source,
        };
        ensure_parent(&dest).await.map_err(io)?;
        if tokio::fs::rename(source, &dest).await.is_ok() {
            return Ok(());
        }
        // Different file systems (say, a network mount): copy beside the
        // destination, then rename, which is atomic within one directory.
        let staging = staging_name(&dest);
        let copied = tokio::fs::copy(source, &staging).await;
        if let Err(e) = copied {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(io(e));
        }
        tokio::fs::rename(&staging, &dest).await.map_err(io)?;
        let _ = tokio::fs::remove_file(source).await;
        Ok(())
    }

    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let dest = self.path_of(key)?;
        let io = |source| StorageError::Io {
            key: key.to_owned(),
            source,
        };
        ensure_parent(&dest).await.map_err(io)?;
        let staging = staging_name(&dest);
        let written = write_synced(&staging, &bytes).await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&staging).await;
            return Err(io(e));
        }
        tokio::fs::rename(&staging, &dest).await.map_err(io)
    }

    pub async fn get(&self, key: &str) -> Result<ObjectBody, StorageError> {
        let path = self.path_of(key)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| read_error(key, e))?;
        let length = file
            .metadata()
            .await
            .map_err(|source| StorageError::Io {
                key: key.to_owned(),
                source,
            })?
            .len();
        Ok(ObjectBody {
            length,
            // Each read is a trip to the blocking pool: read in large pieces.
            stream: ReaderStream::with_capacity(file, READ_CHUNK).boxed(),
        })
    }

    /// The whole object, in one read.
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = self.path_of(key)?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| read_error(key, e))?;
        Ok(Bytes::from(bytes))
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io {
                key: key.to_owned(),
                source,
            }),
        }
    }
}

impl LocalStorage {
    /// Everything under `prefix` (a directory such as `originals/`), staging
    /// files of interrupted writes included, in pages sent as they are read.
    /// The directory is read on a blocking thread, never on the runtime.
    pub fn list(&self, prefix: &'static str) -> mpsc::Receiver<Result<Vec<Listed>, StorageError>> {
        let (pages, receiver) = mpsc::channel(2);
        let dir = self.root.join(prefix);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = send_listing(&dir, prefix, &pages) {
                let _ = pages.blocking_send(Err(StorageError::Io {
                    key: prefix.to_owned(),
                    source: e,
                }));
            }
        });
        receiver
    }
}

fn send_listing(
    dir: &Path,
    prefix: &str,
    pages: &mpsc::Sender<Result<Vec<Listed>, StorageError>>,
) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // Nothing was ever stored under this prefix.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut page = Vec::with_capacity(LIST_PAGE);
    for entry in entries {
        let entry = entry?;
        let metadata = match entry.metadata() {
            Ok(m) if m.is_file() => m,
            Ok(_) => continue,
            // Removed since the directory was read.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        page.push(Listed {
            key: format!("{prefix}{name}"),
            modified: metadata.modified()?,
        });
        if page.len() == LIST_PAGE {
            let full = std::mem::replace(&mut page, Vec::with_capacity(LIST_PAGE));
            if pages.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !page.is_empty() {
        let _ = pages.blocking_send(Ok(page));
    }
    Ok(())
}

/// Entries per page of a listing (S3 lists 1,000 at a time).
const LIST_PAGE: usize = 1000;

/// Staging files are hidden (`.NAME.UUID.tmp`, see `staging_name`).
pub fn is_staging_name(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.starts_with('.') && name.ends_with(".tmp")
}

/// How much of a streamed object is read at a time.
const READ_CHUNK: usize = 64 * 1024;

fn read_error(key: &str, e: std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::NotFound(key.to_owned())
    } else {
        StorageError::Io {
            key: key.to_owned(),
            source: e,
        }
    }
}

async fn ensure_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) => tokio::fs::create_dir_all(parent).await,
        None => Ok(()),
    }
}

/// A unique hidden name beside `dest`, so concurrent writers never collide.
fn staging_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("object");
    dest.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()))
}

async fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(storage: &LocalStorage, key: &str) -> Vec<u8> {
        let mut body = storage.get(key).await.unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = body.stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::open(dir.path().join("store")).await.unwrap();
        storage
            .put_bytes("thumbnails/a.jpg", Bytes::from_static(b"thumb"))
            .await
            .unwrap();
        assert_eq!(read_all(&storage, "thumbnails/a.jpg").await, b"thumb");

        let source = dir.path().join("upload.part");
        std::fs::write(&source, b"original").unwrap();
        storage.put_file("originals/a.jpg", &source).await.unwrap();
        assert!(!source.exists(), "the temporary file is moved, not copied");
        assert_eq!(read_all(&storage, "originals/a.jpg").await, b"original");

        storage.delete("originals/a.jpg").await.unwrap();
        storage.delete("originals/a.jpg").await.unwrap();
        assert!(matches!(
            storage.get("originals/a.jpg").await,
            Err(StorageError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn no_staging_files_are_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::open(dir.path().to_owned()).await.unwrap();
        storage
            .put_bytes("x/b.png", Bytes::from_static(b"b"))
            .await
            .unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("x"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["b.png".to_owned()]);
    }

    #[tokio::test]
    async fn several_writers_share_one_directory_safely() {
        // Two instances mounting the same directory, writing at once.
        let dir = tempfile::tempdir().unwrap();
        let a = LocalStorage::open(dir.path().to_owned()).await.unwrap();
        let b = LocalStorage::open(dir.path().to_owned()).await.unwrap();
        let mut writes = Vec::new();
        for i in 0..40 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            writes.push(tokio::spawn(async move {
                let key = format!("originals/{i:04}.jpg");
                let body = Bytes::from(vec![i as u8; 64 * 1024]);
                store.put_bytes(&key, body).await.unwrap();
                // Both writers also race on one key: the last rename wins whole.
                store
                    .put_bytes("thumbnails/same.jpg", Bytes::from(vec![i as u8; 32 * 1024]))
                    .await
                    .unwrap();
            }));
        }
        for write in writes {
            write.await.unwrap();
        }
        for i in 0..40 {
            let bytes = read_all(&b, &format!("originals/{i:04}.jpg")).await;
            assert_eq!(bytes, vec![i as u8; 64 * 1024]);
        }
        let same = read_all(&a, "thumbnails/same.jpg").await;
        assert_eq!(same.len(), 32 * 1024);
        assert!(
            same.iter().all(|&byte| byte == same[0]),
            "never a mix of two writes"
        );
        for sub in ["originals", "thumbnails"] {
            let leftovers = std::fs::read_dir(dir.path().join(sub))
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".tmp")
                })
                .count();
            assert_eq!(leftovers, 0, "no staging files left in {sub}");
        }
    }
}
