//! What a backup holds, written beside its database file as
//! `backups/ID.manifest.json`. The manifest is written last, so a backup
//! without one is unfinished and is never listed or restored.

use serde::{Deserialize, Serialize};

use crate::db::Engine;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub engine: Engine,
    /// The build that made it (see `build_info`).
    pub build: String,
    /// The database file's key in the store.
    pub database_key: String,
    pub database_bytes: u64,
    pub database_sha256: String,
    pub users: usize,
    pub photos: usize,
    /// Every photo object the database refers to (originals and
    /// thumbnails): photos are not copied, so `restore` checks that each
    /// is still in the photo storage.
    pub objects: Vec<String>,
}

/// Backup ids sort by time (to the millisecond): `20261126T173000123Z-3fa1`.
pub fn new_id() -> String {
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("%Y%m%dT%H%M%S%3fZ").to_string();
    let suffix: u16 = rand::random();
    format!("{stamp}-{suffix:04x}")
}

const ID_LEN: usize = 24;

/// True for a well-formed id (what `restore ID` accepts).
pub fn is_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == ID_LEN
        && text.is_ascii()
        && text[..8].bytes().all(|b| b.is_ascii_digit())
        && bytes[8] == b'T'
        && text[9..18].bytes().all(|b| b.is_ascii_digit())
        && bytes[18] == b'Z'
        && bytes[19] == b'-'
        && text[20..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn manifest_key(id: &str) -> String {
    format!("{}{id}.manifest.json", super::PREFIX)
}

pub fn database_key(id: &str, file_name: &str) -> String {
    format!("{}{id}.{file_name}", super::PREFIX)
}

/// The id of a stored manifest's key.
pub fn id_of_manifest(key: &str) -> Option<&str> {
    key.strip_prefix(super::PREFIX)?
        .strip_suffix(".manifest.json")
        .filter(|id| is_id(id))
}

/// The id a backup file belongs to (`ID.` then anything).
pub fn id_of_file(key: &str) -> Option<&str> {
    let name = key.strip_prefix(super::PREFIX)?;
    let id = name.get(..ID_LEN)?;
    (is_id(id) && name[ID_LEN..].starts_with('.')).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_name_their_files() {
        let id = new_id();
        assert!(is_id(&id), "{id}");
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id("20261126T173000000Z-zzzz"));
        assert_eq!(id_of_manifest(&manifest_key(&id)), Some(id.as_str()));
        assert_eq!(
            id_of_file(&database_key(&id, "database.sql")),
            Some(id.as_str())
        );
        assert_eq!(id_of_file("backups/notes.txt"), None);
        assert!("20261126T173000999Z-ffff" < "20261126T173001000Z-0000");
    }
}
