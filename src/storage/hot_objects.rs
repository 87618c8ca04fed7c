//! The most requested photo objects, kept in memory. Objects never change
//! under their keys (every upload gets new ones), so a copy is never stale;
//! serving it costs no file system call. Bounded in bytes (least recently
//! and least often used go first); objects larger than a limit are always
//! streamed from storage, so one large original cannot push out hundreds
//! of thumbnails.

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

#[derive(Clone)]
struct ByLength;

impl Weighter<String, Bytes> for ByLength {
    fn weight(&self, key: &String, value: &Bytes) -> u64 {
        (key.len() + value.len()) as u64
    }
}

pub struct HotObjects {
    objects: Option<Cache<String, Bytes, ByLength>>,
    max_object_bytes: u64,
}

impl std::fmt::Debug for HotObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotObjects")
            .field("max_object_bytes", &self.max_object_bytes)
            .finish_non_exhaustive()
    }
}

impl HotObjects {
    /// Up to `capacity_bytes` in all (0 turns the cache off), objects of at
    /// most `max_object_bytes` each.
    pub fn new(capacity_bytes: u64, max_object_bytes: u64) -> Self {
        let objects = (capacity_bytes > 0).then(|| {
            // The item estimate only sizes the table; the weight bounds it.
            let items = (capacity_bytes / 16_384).clamp(64, 65_536) as usize;
            Cache::with_weighter(items, capacity_bytes, ByLength)
        });
        Self {
            objects,
            max_object_bytes: max_object_bytes.min(capacity_bytes),
        }
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.objects.as_ref()?.get(key)
    }

    /// Whether an object of `length` bytes is worth keeping.
    pub fn admits(&self, length: u64) -> bool {
        self.objects.is_some() && length <= self.max_object_bytes
    }

    pub fn insert(&self, key: &str, bytes: Bytes) {
        if let Some(objects) = &self.objects {
            if self.admits(bytes.len() as u64) {
                objects.insert(key.to_owned(), bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_objects_within_its_bound() {
        let hot = HotObjects::new(100_000, 10_000);
        assert!(hot.admits(10_000) && !hot.admits(10_001));
        hot.insert("thumbnails/a.jpg", Bytes::from(vec![1u8; 5_000]));
        hot.insert("originals/big.jpg", Bytes::from(vec![2u8; 20_000]));
        assert_eq!(hot.get("thumbnails/a.jpg").unwrap().len(), 5_000);
        assert!(hot.get("originals/big.jpg").is_none(), "too large to keep");
        for i in 0..50 {
            hot.insert(&format!("t/{i}"), Bytes::from(vec![0u8; 9_000]));
        }
        let kept: usize = (0..50)
            .filter(|i| hot.get(&format!("t/{i}")).is_some())
            .count();
        assert!(kept * 9_000 <= 100_000, "the byte bound holds: {kept} kept");
    }

    #[test]
    fn a_zero_capacity_turns_it_off() {
        let hot = HotObjects::new(0, 10_000);
        assert!(!hot.admits(1));
        hot.insert("a", Bytes::from_static(b"x"));
        assert!(hot.get("a").is_none());
    }
}
