//! The photos the benchmark uploads: JPEGs of several sizes, 12-megapixel
//! ones among them, made once and kept in the cache directory (making a
//! 12-megapixel JPEG takes a moment).
//!
//! Each picture is gradients, waves and grain from its own seed, so every
//! file differs and compresses about as well as a real photo.

use std::path::{Path, PathBuf};

use anyhow::Context;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};

/// Bump when the pictures change, so old caches are not reused.
const SET_VERSION: u32 = 3;

/// (count, width, height) of each size in the set.
pub const SIZES: [(usize, u32, u32); 3] = [(8, 4000, 3000), (40, 1600, 1200), (152, 1024, 768)];

pub struct ImageSet {
    /// Every file, in upload order.
    pub files: Vec<PathBuf>,
    /// The file the photo-bytes cases serve: the one closest to 206 KB, the
    /// size the issue measured.
    pub reference: PathBuf,
    /// A 12-megapixel file, for the upload cases.
    pub large: PathBuf,
}

pub fn prepare(cache: &Path) -> anyhow::Result<ImageSet> {
    let dir = cache.join(format!("images-v{SET_VERSION}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = Vec::new();
    let mut seed = 0u64;
    for (count, width, height) in SIZES {
        for _ in 0..count {
            seed += 1;
            let path = dir.join(format!("photo-{seed:03}-{width}x{height}.jpg"));
            if !path.exists() {
                write_jpeg(&path, width, height, seed)?;
            }
            files.push(path);
        }
    }
    let size_of = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let reference = files
        .iter()
        .min_by_key(|p| size_of(p).abs_diff(206 * 1024))
        .cloned()
        .context("no images")?;
    let large = files[0].clone();
    Ok(ImageSet {
        files,
        reference,
        large,
    })
}

fn write_jpeg(path: &Path, width: u32, height: u32, seed: u64) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (fx, fy) = (rng.gen_range(2.0..9.0), rng.gen_range(2.0..9.0));
    let tint: [f32; 3] = [rng.gen(), rng.gen(), rng.gen()];
    // Camera-sized pictures carry more fine detail (sensor noise), which is
    // what makes a real 12-megapixel JPEG weigh 3 to 5 MB.
    let grain = if width * height >= 10_000_000 {
        rng.gen_range(9..13)
    } else {
        rng.gen_range(3..12)
    };
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let wave = ((u * fx * 6.3).sin() * (v * fy * 6.3).cos() + 1.0) * 0.5;
        let mut pixel = [0u8; 3];
        for (c, out) in pixel.iter_mut().enumerate() {
            let base = 40.0 + 150.0 * (wave * 0.6 + tint[c] * 0.4) + 50.0 * u * v;
            let noise = rng.gen_range(-grain..=grain) as f32;
            *out = (base + noise).clamp(0.0, 255.0) as u8;
        }
        Rgb(pixel)
    });
    let temp = path.with_extension("part");
    let file = std::fs::File::create(&temp)?;
    let mut writer = std::io::BufWriter::new(file);
    JpegEncoder::new_with_quality(&mut writer, 85).encode_image(&picture)?;
    drop(writer);
    std::fs::rename(&temp, path)?;
    Ok(())
}
