//! The objects on disk: one directory per bucket under the root, each
//! object a file at its key, and its attributes (content type, cache
//! control, user metadata) in a JSON file beside the buckets. This is the
//! layout s3s-fs used, so the objects of stacks made before are read as
//! they are. A new object is written to a temporary file and renamed into
//! place, so a crash or a SIGKILL never leaves half of one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use anyhow::Context;
use base64::Engine;
use tokio::io::AsyncWriteExt;

use super::error::S3Error;

/// Temporary files start with this; those left by a killed server are
/// removed at start.
const TEMPORARY_PREFIX: &str = ".tmp.";

/// An object's standard attributes and user metadata, as s3s-fs stored them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Attributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// What the file system says about an object.
#[derive(Debug, Clone, Copy)]
pub struct ObjectInfo {
    pub size: u64,
    pub modified: SystemTime,
}

impl ObjectInfo {
    fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            size: metadata.len(),
            modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }

    /// Changes whenever the object is written again (as nginx makes its
    /// ETags): S3 clients treat an ETag as opaque.
    pub fn etag(&self) -> String {
        let nanos = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("\"{nanos:x}-{:x}\"", self.size)
    }
}

pub struct ListedObject {
    pub key: String,
    pub info: ObjectInfo,
}

/// One page of a listing.
pub struct Listing {
    pub objects: Vec<ListedObject>,
    pub common_prefixes: Vec<String>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

pub struct ListQuery<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    /// Only keys after this one.
    pub after: Option<&'a str>,
    pub max_keys: usize,
}

pub struct Store {
    root: PathBuf,
    temporary_counter: AtomicU64,
}

impl Store {
    /// The objects under `root`, with `buckets` made when missing.
    pub fn open(root: &Path, buckets: &[String]) -> anyhow::Result<Self> {
        for bucket in buckets {
            check_bucket_name(bucket).map_err(|e| anyhow::anyhow!("--bucket {bucket}: {e}"))?;
            let dir = root.join(bucket);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the bucket directory {}", dir.display()))?;
        }
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot use {} for objects", root.display()))?;
        remove_temporary_files(&root)?;
        Ok(Self {
            root,
            temporary_counter: AtomicU64::new(0),
        })
    }

    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, S3Error> {
        check_bucket_name(bucket).map_err(S3Error::invalid_argument)?;
        Ok(self.root.join(bucket))
    }

    /// The bucket's directory, or NoSuchBucket.
    async fn existing_bucket(&self, bucket: &str) -> Result<PathBuf, S3Error> {
        let dir = self.bucket_dir(bucket)?;
        match tokio::fs::metadata(&dir).await {
            Ok(meta) if meta.is_dir() => Ok(dir),
            _ => Err(S3Error::no_such_bucket(bucket)),
        }
    }

    async fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, S3Error> {
        check_key(key).map_err(S3Error::invalid_argument)?;
        Ok(self.existing_bucket(bucket).await?.join(key))
    }

    fn attributes_path(&self, bucket: &str, key: &str) -> PathBuf {
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        self.root.join(format!(
            ".bucket-{}.object-{}.metadata.json",
            encode(bucket),
            encode(key)
        ))
    }

    fn temporary_path(&self) -> PathBuf {
        let n = self.temporary_counter.fetch_add(1, Ordering::Relaxed);
        self.root.join(format!(
            "{TEMPORARY_PREFIX}{}.{n}.internal.part",
            std::process::id()
        ))
    }

    pub async fn bucket_exists(&self, bucket: &str) -> Result<(), S3Error> {
        self.existing_bucket(bucket).await.map(|_| ())
    }

    /// Makes the bucket; false when it was there already.
    pub async fn create_bucket(&self, bucket: &str) -> Result<bool, S3Error> {
        let dir = self.bucket_dir(bucket)?;
        match tokio::fs::create_dir(&dir).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(S3Error::internal(e)),
        }
    }

    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        let dir = self.existing_bucket(bucket).await?;
        tokio::fs::remove_dir(&dir).await.map_err(|_| {
            S3Error::new(
                actix_web::http::StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty.",
            )
        })
    }

    pub async fn list_buckets(&self) -> Result<Vec<(String, SystemTime)>, S3Error> {
        let mut buckets = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.root).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().await?;
            if meta.is_dir() && check_bucket_name(&name).is_ok() {
                let created = meta.created().or_else(|_| meta.modified());
                buckets.push((name, created.unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
        buckets.sort();
        Ok(buckets)
    }

    /// Starts writing an object; nothing is visible until `commit`.
    pub async fn begin_put(&self, bucket: &str, key: &str) -> Result<PendingObject, S3Error> {
        let target = self.object_path(bucket, key).await?;
        let temporary = self.temporary_path();
        let file = tokio::fs::File::create(&temporary).await?;
        Ok(PendingObject {
            file,
            temporary,
            target,
            attributes_path: self.attributes_path(bucket, key),
            attributes_temporary: self.temporary_path(),
            committed: false,
        })
    }

    pub async fn put_bytes(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        attributes: &Attributes,
    ) -> Result<ObjectInfo, S3Error> {
        let mut pending = self.begin_put(bucket, key).await?;
        pending.write(bytes).await?;
        pending.commit(attributes).await
    }

    async fn attributes(&self, bucket: &str, key: &str) -> Attributes {
        match tokio::fs::read(self.attributes_path(bucket, key)).await {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => Attributes::default(),
        }
    }

    /// The object's file, opened for reading, with its size and attributes.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(tokio::fs::File, ObjectInfo, Attributes), S3Error> {
        check_key(key).map_err(S3Error::invalid_argument)?;
        // No look at the bucket first: only a missing file needs telling
        // a missing bucket from a missing key.
        let file = match tokio::fs::File::open(self.bucket_dir(bucket)?.join(key)).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.existing_bucket(bucket).await?;
                return Err(S3Error::no_such_key());
            }
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata().await?;
        if !meta.is_file() {
            return Err(S3Error::no_such_key());
        }
        Ok((
            file,
            ObjectInfo::of(&meta),
            self.attributes(bucket, key).await,
        ))
    }

    /// Removes an object; a missing one is not an error (as in S3).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let path = self.object_path(bucket, key).await?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(S3Error::internal(e)),
        }
        let _ = tokio::fs::remove_file(self.attributes_path(bucket, key)).await;
        // Folders left empty go too, so that listings and rmdir stay clean.
        let bucket_dir = self.bucket_dir(bucket)?;
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(current) = dir {
            if current == bucket_dir || tokio::fs::remove_dir(&current).await.is_err() {
                break;
            }
            dir = current.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    /// Copies an object, with its attributes or with `replacement`.
    pub async fn copy(
        &self,
        from: (&str, &str),
        to: (&str, &str),
        replacement: Option<Attributes>,
    ) -> Result<ObjectInfo, S3Error> {
        let (mut source, _, attributes) = self.open_object(from.0, from.1).await?;
        let mut pending = self.begin_put(to.0, to.1).await?;
        tokio::io::copy(&mut source, &mut pending.file).await?;
        pending.commit(&replacement.unwrap_or(attributes)).await
    }

    /// One page of the bucket's keys in byte order, as S3 lists them.
    /// Only the folder the prefix names is walked (`backups/` does not
    /// read every photo's entry).
    pub async fn list(&self, bucket: &str, query: &ListQuery<'_>) -> Result<Listing, S3Error> {
        let dir = self.existing_bucket(bucket).await?;
        let folder = query
            .prefix
            .rfind('/')
            .map_or("", |end| &query.prefix[..=end]);
        if !folder.is_empty() && check_key(folder.trim_end_matches('/')).is_err() {
            // No key can start with a folder that cannot be a path.
            return Ok(page(Vec::new(), query));
        }
        let (dir, folder) = (dir.join(folder), folder.to_owned());
        let mut all = tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            match walk(&dir, &folder, &mut found) {
                Err(e) if !folder.is_empty() && is_missing_folder(&e) => Ok(Vec::new()),
                result => result.map(|()| found),
            }
        })
        .await
        .map_err(S3Error::internal)??;
        all.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(page(all, query))
    }
}

/// An object being written: the bytes go to a temporary file, renamed to
/// the key at `commit`; dropped uncommitted, the file is removed.
pub struct PendingObject {
    file: tokio::fs::File,
    temporary: PathBuf,
    target: PathBuf,
    attributes_path: PathBuf,
    attributes_temporary: PathBuf,
    committed: bool,
}

impl PendingObject {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), S3Error> {
        Ok(self.file.write_all(bytes).await?)
    }

    pub async fn commit(mut self, attributes: &Attributes) -> Result<ObjectInfo, S3Error> {
        self.file.flush().await?;
        let json = serde_json::to_vec(attributes).map_err(S3Error::internal)?;
        tokio::fs::write(&self.attributes_temporary, json).await?;
        if let Some(parent) = self.target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|_| {
                S3Error::invalid_argument(
                    "a part of this key is already an object: keys cannot be both an object and a folder here",
                )
            })?;
        }
        if tokio::fs::metadata(&self.target)
            .await
            .is_ok_and(|meta| meta.is_dir())
        {
            return Err(S3Error::invalid_argument(
                "this key is a folder of other objects: keys cannot be both an object and a folder here",
            ));
        }
        tokio::fs::rename(&self.attributes_temporary, &self.attributes_path).await?;
        tokio::fs::rename(&self.temporary, &self.target).await?;
        self.committed = true;
        let meta = tokio::fs::metadata(&self.target).await?;
        Ok(ObjectInfo::of(&meta))
    }
}

impl Drop for PendingObject {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let files = [self.temporary.clone(), self.attributes_temporary.clone()];
        // Removed off the request path: dropping happens inside a handler.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for file in files {
                    let _ = tokio::fs::remove_file(file).await;
                }
            });
        }
    }
}

/// The folder a prefix names is not there, or is an object.
fn is_missing_folder(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

fn walk(dir: &Path, prefix: &str, found: &mut Vec<ListedObject>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let key = format!("{prefix}{name}");
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(&entry.path(), &format!("{key}/"), found)?;
        } else if meta.is_file() {
            found.push(ListedObject {
                key,
                info: ObjectInfo::of(&meta),
            });
        }
    }
    Ok(())
}

/// The page of sorted `all` that `query` asks for: keys under the prefix,
/// after the marker, keys sharing a part up to the delimiter rolled into
/// one common prefix, at most `max_keys` entries.
fn page(all: Vec<ListedObject>, query: &ListQuery) -> Listing {
    let mut listing = Listing {
        objects: Vec::new(),
        common_prefixes: Vec::new(),
        next: None,
    };
    let mut last: Option<String> = None;
    for object in all {
        if !object.key.starts_with(query.prefix) {
            continue;
        }
        if let Some(after) = query.after {
            let inside_rolled_up = query
                .delimiter
                .is_some_and(|d| after.ends_with(d) && object.key.starts_with(after));
            if object.key.as_str() <= after || inside_rolled_up {
                continue;
            }
        }
        let common = query.delimiter.and_then(|delimiter| {
            let rest = &object.key[query.prefix.len()..];
            rest.find(delimiter)
                .map(|at| object.key[..query.prefix.len() + at + delimiter.len()].to_owned())
        });
        if common.is_some() && common == listing.common_prefixes.last().cloned() {
            continue;
        }
        if listing.objects.len() + listing.common_prefixes.len() == query.max_keys {
            listing.next = last;
            break;
        }
        match common {
            Some(prefix) => {
                last = Some(prefix.clone());
                listing.common_prefixes.push(prefix);
            }
            None => {
                last = Some(object.key.clone());
                listing.objects.push(object);
            }
        }
    }
    listing
}

fn check_bucket_name(name: &str) -> Result<(), String> {
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !name.starts_with(['.', '-']);
    if valid {
        Ok(())
    } else {
        Err(format!("{name:?} is not a bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens"))
    }
}

/// A key this server can keep as a path: S3 allows any, files do not.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 1024 {
        return Err("a key has 1 to 1024 bytes".to_owned());
    }
    if key.contains('\0') {
        return Err("a key cannot contain a NUL byte".to_owned());
    }
    if key
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "the key {key:?} has an empty, \".\" or \"..\" part, which photoscale's S3 server cannot store as a file"
        ));
    }
    Ok(())
}

fn remove_temporary_files(root: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMPORARY_PREFIX))
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(keys: &[&str]) -> Vec<ListedObject> {
        keys.iter()
            .map(|key| ListedObject {
                key: (*key).to_owned(),
                info: ObjectInfo {
                    size: 1,
                    modified: SystemTime::UNIX_EPOCH,
                },
            })
            .collect()
    }

    fn keys(listing: &Listing) -> Vec<&str> {
        listing.objects.iter().map(|o| o.key.as_str()).collect()
    }

    const KEYS: [&str; 5] = ["a.jpg", "o/1", "o/2", "t/1", "t/x/2"];

    #[test]
    fn pages_follow_each_other_without_gaps() {
        let first = page(
            objects(&KEYS),
            &ListQuery {
                prefix: "",
                delimiter: None,
                after: None,
                max_keys: 2,
            },
        );
        assert_eq!(keys(&first), ["a.jpg", "o/1"]);
        assert_eq!(first.next.as_deref(), Some("o/1"));
        let second = page(
            objects(&KEYS),
            &ListQuery {
                prefix: "",
                delimiter: None,
                after: first.next.as_deref(),
                max_keys: 3,
            },
        );
        assert_eq!(keys(&second), ["o/2", "t/1", "t/x/2"]);
        assert_eq!(second.next, None, "the last page says so");
    }

    #[test]
    fn a_delimiter_rolls_keys_up_into_common_prefixes() {
        let query = |prefix, after, max_keys| ListQuery {
            prefix,
            delimiter: Some("/"),
            after,
            max_keys,
        };
        let top = page(objects(&KEYS), &query("", None, 1000));
        assert_eq!(keys(&top), ["a.jpg"]);
        assert_eq!(top.common_prefixes, ["o/", "t/"]);
        let first = page(objects(&KEYS), &query("", None, 2));
        assert_eq!(first.next.as_deref(), Some("o/"));
        let rest = page(objects(&KEYS), &query("", Some("o/"), 2));
        assert_eq!(rest.common_prefixes, ["t/"], "o/2 is not listed again");
        let inside = page(objects(&KEYS), &query("t/", None, 1000));
        assert_eq!(keys(&inside), ["t/1"]);
        assert_eq!(inside.common_prefixes, ["t/x/"]);
    }

    #[test]
    fn keys_that_are_not_paths_are_refused() {
        for bad in ["", "../escape", "a//b", "a/./b", "folder/", "/abs", "a\0b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        for good in ["originals/a.jpg", "a b+c%.jpg", "backups/x.manifest.json"] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        assert!(check_bucket_name("photos").is_ok());
        for bad in ["..", "Photos", "ab", "../x", ".hidden"] {
            assert!(check_bucket_name(bad).is_err(), "{bad:?}");
        }
    }
}
