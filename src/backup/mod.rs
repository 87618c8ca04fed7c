//! `photoscale backup create|list|restore|prune`: the configured database,
//! copied with its engine's own tool (see `database_dump`), plus a
//! manifest of the photo objects it refers to, kept under `backups/` in the
//! photo store when the fleet shares it (the S3 bucket, the shared
//! directory), else in the data directory, or in `--to DIR`.
//!
//! Photos are not copied: objects are written once under server-made names
//! and never changed, so the manifest is enough to check, at restore, that
//! each photo the database names is still there.

mod database_dump;
pub mod manifest;
pub mod schedule;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::configuration::{Settings, StorageBackend};
use crate::db::Db;
use crate::storage::{Storage, StorageError};
pub use manifest::Manifest;

/// Where backups live in their store.
pub const PREFIX: &str = "backups/";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Invalid(String),
    #[error("the database: {0}")]
    Database(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0} is not installed, and backups of this database need it\n  fix: apt-get install mariadb-client (MariaDB/MySQL) or postgresql-client (PostgreSQL)")]
    ToolMissing(String),
    #[error("{program} failed ({status}):\n{stderr}")]
    ToolFailed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("no backup {id} in {store}; there: {available}\n  fix: use an id that `photoscale backup list` prints")]
    NotFound {
        id: String,
        store: String,
        available: String,
    },
    #[error("the database is not empty ({users} user(s), {photos} photo(s)); restoring would replace them\n  fix: add --force to replace them with the backup's")]
    NotEmpty { users: usize, photos: usize },
    #[error("{missing} of the backup's {total} photo objects are not in the photo storage (first: {first}); nothing was restored\n  fix: restore the photos' storage first, or point storage at the one this backup was made with")]
    PhotosMissing {
        missing: usize,
        total: usize,
        first: String,
    },
    #[error("backup {id} is of a {} database; this configuration's is {}\n  fix: restore into the engine it was made from, then move the data with `photoscale data copy`", backup.name(), database.name())]
    EngineDiffers {
        id: String,
        backup: crate::db::Engine,
        database: crate::db::Engine,
    },
    #[error("the backup's schema (migrations {backup}) differs from the database's ({database})\n  fix: restore with the photoscale build that made the backup")]
    SchemaDiffers { backup: String, database: String },
    #[error("the backup's database file does not match its manifest (SHA-256 {found}, expected {expected}); nothing was restored")]
    Corrupt { found: String, expected: String },
}

impl BackupError {
    fn database(e: impl std::fmt::Display) -> Self {
        Self::Database(e.to_string())
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// What `restore` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub users: usize,
    pub photos: usize,
}

/// The configured database and photo storage, and where backups go.
pub struct Backups {
    db: Db,
    url: SecretString,
    photos: Storage,
    store: Storage,
    store_name: String,
}

impl Backups {
    /// Opens the configuration's database and storage; `to` overrides
    /// where backups are kept.
    pub async fn open(settings: &Settings, to: Option<&Path>) -> anyhow::Result<Self> {
        let url = settings.database_url();
        let db = Db::connect(&url, &settings.database).await?;
        let photos = Storage::from_settings(settings).await?;
        let (store, store_name) = match to {
            Some(dir) => local_store(dir).await?,
            None => default_store(settings, &photos).await?,
        };
        Ok(Self {
            db,
            url,
            photos,
            store,
            store_name,
        })
    }

    /// The running app's database and storage (scheduled backups).
    pub async fn for_app(state: &crate::state::AppState) -> anyhow::Result<Self> {
        let (store, store_name) = default_store(&state.settings, &state.storage).await?;
        Ok(Self {
            db: state.db.clone(),
            url: state.settings.database_url(),
            photos: state.storage.clone(),
            store,
            store_name,
        })
    }

    /// Where the backups are, for messages.
    pub fn store_name(&self) -> &str {
        &self.store_name
    }

    /// Makes a backup and returns its manifest.
    pub async fn create(&self) -> Result<Manifest, BackupError> {
        let id = manifest::new_id();
        let engine = self.db.engine();
        let work = std::env::temp_dir().join(format!("photoscale-backup-{id}"));
        std::fs::create_dir_all(&work).map_err(|e| BackupError::io(&work, e))?;
        let result = async {
            let file = work.join(database_dump::file_name(engine));
            database_dump::dump(engine, &self.url, &file).await?;
            // Read after the dump, so the manifest names at least every
            // photo the dump holds.
            let users = self.db.all_users().await.map_err(BackupError::database)?;
            let photos = self.db.all_photos().await.map_err(BackupError::database)?;
            let (database_sha256, database_bytes) = digest_of(&file).await?;
            let database_key = manifest::database_key(&id, database_dump::file_name(engine));
            self.store
                .put_file(&database_key, &file, "application/octet-stream")
                .await?;
            let manifest = Manifest {
                id: id.clone(),
                created_at: jiff::Timestamp::now().to_string(),
                engine,
                build: crate::build_info::BUILD_ID.into(),
                database_key,
                database_bytes,
                database_sha256,
                users: users.len(),
                photos: photos.len(),
                objects: photos
                    .iter()
                    .flat_map(|p| [p.object_key.clone(), p.thumb_key.clone()])
                    .collect(),
            };
            let text = serde_json::to_vec_pretty(&manifest).expect("serialises");
            self.store
                .put_bytes(
                    &manifest::manifest_key(&id),
                    text.into(),
                    "application/json",
                )
                .await?;
            Ok(manifest)
        }
        .await;
        let _ = std::fs::remove_dir_all(&work);
        result
    }

    /// Every finished backup, oldest first.
    pub async fn list(&self) -> Result<Vec<Manifest>, BackupError> {
        let mut manifests = Vec::new();
        for key in self.keys().await? {
            if manifest::id_of_manifest(&key).is_some() {
                manifests.push(self.read_manifest(&key).await?);
            }
        }
        manifests.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(manifests)
    }

    /// The newest finished backup: ids sort by time, so one manifest is read.
    pub async fn newest(&self) -> Result<Option<Manifest>, BackupError> {
        let keys = self.keys().await?;
        let Some(id) = keys
            .iter()
            .filter_map(|k| manifest::id_of_manifest(k))
            .max()
        else {
            return Ok(None);
        };
        self.read_manifest(&manifest::manifest_key(id))
            .await
            .map(Some)
    }

    async fn read_manifest(&self, key: &str) -> Result<Manifest, BackupError> {
        let bytes = self.store.get_bytes(key).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| BackupError::Invalid(format!("{key} is not a backup manifest: {e}")))
    }

    async fn keys(&self) -> Result<Vec<String>, BackupError> {
        Ok(self.listed().await?.into_iter().map(|l| l.0).collect())
    }

    async fn listed(&self) -> Result<Vec<(String, std::time::SystemTime)>, BackupError> {
        let mut pages = self.store.list(PREFIX);
        let mut keys = Vec::new();
        while let Some(page) = pages.recv().await {
            keys.extend(page?.into_iter().map(|l| (l.key, l.modified)));
        }
        Ok(keys)
    }

    /// Replaces the database's contents with backup `id`'s, after checking
    /// that it may (`force` for a non-empty database) and that every photo
    /// the backup names is in the photo storage.
    pub async fn restore(&self, id: &str, force: bool) -> Result<Restored, BackupError> {
        let manifest = self.find(id).await?;
        if manifest.engine != self.db.engine() {
            return Err(BackupError::EngineDiffers {
                id: id.to_owned(),
                backup: manifest.engine,
                database: self.db.engine(),
            });
        }
        let users = self.db.all_users().await.map_err(BackupError::database)?;
        let photos = self.db.all_photos().await.map_err(BackupError::database)?;
        if !force && (!users.is_empty() || !photos.is_empty()) {
            return Err(BackupError::NotEmpty {
                users: users.len(),
                photos: photos.len(),
            });
        }
        self.check_photos_present(&manifest).await?;
        let work = std::env::temp_dir().join(format!("photoscale-restore-{id}"));
        std::fs::create_dir_all(&work).map_err(|e| BackupError::io(&work, e))?;
        let result = async {
            let file = work.join(database_dump::file_name(manifest.engine));
            self.download(&manifest.database_key, &file).await?;
            let (found, _) = digest_of(&file).await?;
            if found != manifest.database_sha256 {
                return Err(BackupError::Corrupt {
                    found,
                    expected: manifest.database_sha256.clone(),
                });
            }
            database_dump::restore(manifest.engine, &self.url, &file).await
        }
        .await;
        let _ = std::fs::remove_dir_all(&work);
        result?;
        Ok(Restored {
            users: self
                .db
                .all_users()
                .await
                .map_err(BackupError::database)?
                .len(),
            photos: self
                .db
                .all_photos()
                .await
                .map_err(BackupError::database)?
                .len(),
        })
    }

    async fn find(&self, id: &str) -> Result<Manifest, BackupError> {
        if !manifest::is_id(id) {
            return Err(BackupError::Invalid(format!(
                "{id:?} is not a backup id (they look like 20261126T173000123Z-3fa1)\n  fix: use an id that `photoscale backup list` prints"
            )));
        }
        let all = self.list().await?;
        all.iter().find(|m| m.id == id).cloned().ok_or_else(|| {
            let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
            BackupError::NotFound {
                id: id.to_owned(),
                store: self.store_name.clone(),
                available: if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(", ")
                },
            }
        })
    }

    async fn check_photos_present(&self, manifest: &Manifest) -> Result<(), BackupError> {
        let mut present = HashSet::new();
        for prefix in ["originals/", "thumbnails/"] {
            let mut pages = self.photos.list(prefix);
            while let Some(page) = pages.recv().await {
                present.extend(page?.into_iter().map(|l| l.key));
            }
        }
        let missing: Vec<&String> = manifest
            .objects
            .iter()
            .filter(|key| !present.contains(*key))
            .collect();
        match missing.first() {
            None => Ok(()),
            Some(first) => Err(BackupError::PhotosMissing {
                missing: missing.len(),
                total: manifest.objects.len(),
                first: (*first).clone(),
            }),
        }
    }

    async fn download(&self, key: &str, dest: &Path) -> Result<(), BackupError> {
        use tokio::io::AsyncWriteExt;
        let mut body = self.store.get(key).await?;
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| BackupError::io(dest, e))?;
        while let Some(chunk) = body.stream.next().await {
            let chunk = chunk.map_err(|e| BackupError::io(dest, e))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| BackupError::io(dest, e))?;
        }
        file.flush().await.map_err(|e| BackupError::io(dest, e))
    }

    /// Deletes all but the newest `keep` backups, and files of unfinished
    /// backups older than an hour (a backup still being written is younger).
    /// Returns the ids deleted.
    pub async fn prune(&self, keep: usize) -> Result<Vec<String>, BackupError> {
        let manifests = self.list().await?;
        let doomed: Vec<String> = manifests
            .iter()
            .rev()
            .skip(keep)
            .map(|m| m.id.clone())
            .collect();
        let finished: HashSet<&str> = manifests.iter().map(|m| m.id.as_str()).collect();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let listed = self.listed().await?;
        for id in &doomed {
            // The manifest first: without it the backup is unfinished,
            // never half-listed.
            self.store.delete(&manifest::manifest_key(id)).await?;
        }
        for (key, modified) in listed {
            let Some(id) = manifest::id_of_file(&key) else {
                continue;
            };
            let abandoned = !finished.contains(id) && modified < an_hour_ago;
            if doomed.iter().any(|d| d == id) || abandoned {
                self.store.delete(&key).await?;
            }
        }
        Ok(doomed)
    }
}

/// Under `backups/` in `backup.s3` when set; else in the photo store when
/// the fleet shares it (the bucket, the shared directory); else in the data
/// directory.
async fn default_store(settings: &Settings, photos: &Storage) -> anyhow::Result<(Storage, String)> {
    if let Some(s3) = &settings.backup.s3 {
        let store = Storage::in_bucket(s3).await?;
        let name = format!("{} under {PREFIX}", store.describe());
        return Ok((store, name));
    }
    match settings.storage.backend {
        StorageBackend::S3 | StorageBackend::Shared => Ok((
            photos.clone(),
            format!("{} under {PREFIX}", photos.describe()),
        )),
        StorageBackend::Local => local_store(&settings.data_dir).await,
    }
}

async fn local_store(dir: &Path) -> anyhow::Result<(Storage, String)> {
    let storage = Storage::in_directory(dir.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("cannot use {} for backups: {e}", dir.display()))?;
    Ok((storage, format!("{}", dir.join(PREFIX).display())))
}

/// SHA-256 (hex) and size of a file, read off the async runtime.
async fn digest_of(path: &Path) -> Result<(String, u64), BackupError> {
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Sha256::new();
        let bytes = std::io::copy(&mut file, &mut hasher)?;
        Ok::<_, std::io::Error>((hex::encode(hasher.finalize()), bytes))
    })
    .await
    .expect("the digest task does not panic")
    .map_err(|e| BackupError::io(path, e))
}
