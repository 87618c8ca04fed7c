//! Photos by id, remembered: a photo never changes under its id, so once
//! its record has been read, serving its bytes again needs no database
//! query. Bounded by a number of records (a few hundred bytes each);
//! unknown ids are not remembered, since a photo uploaded through another
//! instance may appear under one at any time.

use std::sync::Arc;

use crate::db::{Db, DbError, PhotoRecord};
use crate::domain::PhotoId;

/// About 1 MiB of records at the default size.
pub const DEFAULT_CAPACITY: usize = 4096;

#[derive(Debug)]
pub struct PhotoIndex {
    records: quick_cache::sync::Cache<String, Arc<PhotoRecord>>,
}

impl PhotoIndex {
    pub fn new(capacity: usize) -> Self {
        Self {
            records: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// The photo's record: remembered, or read from the database once.
    pub async fn find(&self, db: &Db, id: &PhotoId) -> Result<Option<Arc<PhotoRecord>>, DbError> {
        if let Some(record) = self.records.get(id.as_str()) {
            return Ok(Some(record));
        }
        let Some(record) = db.find_photo(id).await? else {
            return Ok(None);
        };
        let record = Arc::new(record);
        self.records.insert(id.as_str().to_owned(), record.clone());
        Ok(Some(record))
    }
}
