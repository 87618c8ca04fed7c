//! The mutation loop shared by every target.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct Fuzz {
    corpus: &'static str,
    name: &'static str,
}

impl Fuzz {
    /// A target fed from `fuzz/corpus/<corpus>/`.
    pub fn new(corpus: &'static str) -> Self {
        Self {
            corpus,
            name: corpus,
        }
    }

    /// Another target on the same corpus.
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    pub fn run(&self, target: impl Fn(&[u8])) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let seeds = read_corpus(&root.join("corpus").join(self.corpus));
        assert!(!seeds.is_empty(), "the {} corpus is empty", self.corpus);
        let seconds: f64 = std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0);
        let seed: u64 = std::env::var("FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand::thread_rng().gen());
        let mut rng = StdRng::seed_from_u64(seed);
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let mut runs = 0u64;
        // Every seed as it is first, then mutations until the time is up.
        let mut inputs = seeds.clone().into_iter();
        loop {
            let input = match inputs.next() {
                Some(seed) => seed,
                None if Instant::now() >= deadline => break,
                None => mutate(&seeds, &mut rng),
            };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&input))) {
                let saved = save_failure(&root, self.name, &input);
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!(
                    "fuzz target {} failed after {runs} runs (FUZZ_SEED={seed}): {message}\n  input saved to {}",
                    self.name,
                    saved.display()
                );
            }
            runs += 1;
        }
        println!(
            "fuzz {}: {runs} inputs in {seconds} s ({} seeds, FUZZ_SEED={seed})",
            self.name,
            seeds.len()
        );
    }
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
}

fn save_failure(root: &Path, name: &str, input: &[u8]) -> PathBuf {
    use sha2::Digest;
    let dir = root.join("artifacts").join(name);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!(
        "crash-{}",
        hex::encode(&sha2::Sha256::digest(input)[..8])
    ));
    let _ = std::fs::write(&path, input);
    path
}

const INTERESTING: [&[u8]; 12] = [
    b"\0",
    b"\xff",
    b"\xff\xff\xff\xff",
    b"\x7f\xff\xff\xff",
    b"\x80\0\0\0",
    b"%",
    b"\\",
    b"//",
    b"\r\n",
    b"\r\n\r\n",
    b"--",
    b"\xff\xd8\xff",
];

/// One seed, changed a few times; sometimes spliced with another.
fn mutate(seeds: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    let mut data = seeds[rng.gen_range(0..seeds.len())].clone();
    for _ in 0..rng.gen_range(1..=4) {
        let at = if data.is_empty() {
            0
        } else {
            rng.gen_range(0..data.len())
        };
        match rng.gen_range(0..7) {
            0 if !data.is_empty() => data[at] ^= 1 << rng.gen_range(0..8),
            1 if !data.is_empty() => data[at] = rng.gen(),
            2 => data.insert(at, rng.gen()),
            3 if !data.is_empty() => {
                let end = (at + rng.gen_range(1..=16)).min(data.len());
                data.drain(at..end);
            }
            4 => data.truncate(at),
            5 => {
                let value = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                let end = (at + value.len()).min(data.len());
                data.splice(at..end, value.iter().copied());
            }
            _ => {
                let other = &seeds[rng.gen_range(0..seeds.len())];
                if !other.is_empty() {
                    let from = rng.gen_range(0..other.len());
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
            }
        }
    }
    data
}
