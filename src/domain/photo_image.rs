//! What makes an uploaded file a photo we accept, and its thumbnail.
//!
//! The type is decided by the file's content (magic bytes, then a successful
//! header decode), never by its name or the declared content type. Pixel
//! limits are checked from the header before anything is decoded, so a small
//! file that claims to be 100 000 × 100 000 pixels is refused cheaply.
//!
//! Everything here is blocking CPU and file work: run it on the blocking pool.
//! The thumbnail itself is made in `thumbnail.rs`.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use image::ImageReader;
use sha2::Digest;

pub use super::photo_errors::{PhotoError, PhotoRejected};
pub use super::photo_format::PhotoFormat;
pub use super::thumbnail::Thumbnail;

#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    pub max_dimension: u32,
    pub max_pixels: u64,
    pub thumbnail_size: u32,
}

/// A validated upload: the facts stored with the photo.
#[derive(Debug, Clone)]
pub struct InspectedPhoto {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    /// Hex SHA-256 of the stored file (metadata stripped): the photo's
    /// identity and its ETag.
    pub sha256: String,
}

/// Checks the file at `path`, makes its thumbnail, and rewrites the file
/// without its metadata (`photo_metadata`), synced to disk: a crash never
/// leaves a stored photo with missing bytes.
pub fn inspect_and_thumbnail(
    path: &Path,
    limits: &ImageLimits,
) -> Result<(InspectedPhoto, Thumbnail), PhotoError> {
    let (mut file, format) = open_and_sniff(path)?;

    file.rewind()?;
    let (width, height) = read_dimensions(&file, format)?;
    check_pixel_limits(width, height, limits)?;

    // Decoded from memory: a few megabytes, read once (through a file
    // reader, the JPEG decoder took a fifth longer).
    drop(file);
    let bytes = std::fs::read(path)?;
    // From the original: the thumbnail follows its EXIF orientation.
    let thumbnail = super::thumbnail::make(&bytes, format, (width, height), limits.thumbnail_size)?;
    let stripped = super::photo_metadata::strip(&bytes, format)
        .map_err(|damaged| PhotoRejected::Unreadable(damaged.0))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(stripped != bytes)
        .open(path)?;
    if stripped != bytes {
        std::io::Write::write_all(&mut file, &stripped)?;
    }
    file.sync_all()?;
    let photo = InspectedPhoto {
        format,
        width,
        height,
        size_bytes: stripped.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&stripped)),
    };
    Ok((photo, thumbnail))
}

/// unknown format is refused here).
fn open_and_sniff(path: &Path) -> Result<(File, PhotoFormat), PhotoError> {
    let mut file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Err(PhotoRejected::Empty.into());
    }
    let mut head = [0u8; 16];
    let n = read_up_to(&mut file, &mut head)?;
    let format = PhotoFormat::sniff(&head[..n]).ok_or(PhotoRejected::UnsupportedType)?;
    Ok((file, format))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The memory decoding the file at `path` takes at most, from its header
/// alone: width × height × bytes per pixel (a 16-bit RGBA pixel is 8),
/// twice, since turning it upright copies it.
/// The cheap checks (empty, type, pixel limits) come first, so their
/// answers do not depend on the budget.
pub fn decode_cost(path: &Path, limits: &ImageLimits) -> Result<u64, PhotoError> {
    use image::ImageDecoder;
    let (mut file, format) = open_and_sniff(path)?;
    file.rewind()?;
    let mut reader = reader_for(&file, format);
    reader.no_limits();
    let decoder = reader
        .into_decoder()
        .map_err(|_| PhotoRejected::Unreadable(format.name()))?;
    let (width, height) = decoder.dimensions();
    check_pixel_limits(width, height, limits)?;
    let per_pixel = u64::from(decoder.color_type().bytes_per_pixel());
    Ok(u64::from(width) * u64::from(height) * per_pixel * 2)
}

fn reader_for(file: &File, format: PhotoFormat) -> ImageReader<BufReader<File>> {
    let clone = file.try_clone().expect("duplicating an open file handle");
    ImageReader::with_format(BufReader::new(clone), format.image_format())
}

fn read_dimensions(file: &File, format: PhotoFormat) -> Result<(u32, u32), PhotoError> {
    let mut reader = reader_for(file, format);
    // Only the header is read here, so the decoder's allocation limits do not
    // apply yet; our own pixel limits are checked right after.
    reader.no_limits();
    reader
        .into_dimensions()
        .map_err(|_| PhotoRejected::Unreadable(format.name()).into())
}

fn check_pixel_limits(width: u32, height: u32, limits: &ImageLimits) -> Result<(), PhotoRejected> {
    let too_wide = width > limits.max_dimension || height > limits.max_dimension;
    let too_many = u64::from(width) * u64::from(height) > limits.max_pixels;
    if width == 0 || height == 0 || too_wide || too_many {
        return Err(PhotoRejected::TooManyPixels {
            width,
            height,
            limit: format!(
                "at most {} px on a side and {:.0} megapixels",
                limits.max_dimension,
                limits.max_pixels as f64 / 1e6
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat};

    const LIMITS: ImageLimits = ImageLimits {
        max_dimension: 4000,
        max_pixels: 4_000_000,
        thumbnail_size: 400,
    };

    fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn accepts_each_format_and_bounds_the_thumbnail() {
        for (format, expected) in [
            (ImageFormat::Jpeg, PhotoFormat::Jpeg),
            (ImageFormat::Png, PhotoFormat::Png),
            (ImageFormat::Gif, PhotoFormat::Gif),
            (ImageFormat::WebP, PhotoFormat::WebP),
        ] {
            let file = write_temp(&encoded(format, 800, 600));
            let (photo, thumb) = inspect_and_thumbnail(file.path(), &LIMITS).unwrap();
            assert_eq!(photo.format, expected);
            assert_eq!((photo.width, photo.height), (800, 600));
            let t = image::load_from_memory(&thumb.bytes).unwrap();
            assert_eq!((t.width(), t.height()), (400, 300), "{expected:?}");
        }
    }

    #[test]
    fn rejects_text_renamed_or_not() {
        let file = write_temp(b"just some text, not a picture at all");
        let err = inspect_and_thumbnail(file.path(), &LIMITS).unwrap_err();
        assert!(matches!(
            err,
            PhotoError::Rejected(PhotoRejected::UnsupportedType)
        ));
    }

    #[test]
    fn rejects_empty_file() {
        let file = write_temp(b"");
        let err = inspect_and_thumbnail(file.path(), &LIMITS).unwrap_err();
        assert!(matches!(err, PhotoError::Rejected(PhotoRejected::Empty)));
    }

    #[test]
    fn rejects_right_magic_with_broken_header() {
        let file = write_temp(b"\x89PNG\r\n\x1a\nthis is not a real header");
        let err = inspect_and_thumbnail(file.path(), &LIMITS).unwrap_err();
        assert!(matches!(
            err,
            PhotoError::Rejected(PhotoRejected::Unreadable("PNG"))
        ));
    }

    #[test]
    fn rejects_too_many_pixels_from_the_header_alone() {
        let file = write_temp(&encoded(ImageFormat::Png, 2100, 2000));
        let err = inspect_and_thumbnail(file.path(), &LIMITS).unwrap_err();
        assert!(
            matches!(
                err,
                PhotoError::Rejected(PhotoRejected::TooManyPixels { width: 2100, .. })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn sniffing_ignores_everything_but_content() {
        assert_eq!(
            PhotoFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(PhotoFormat::WebP)
        );
        assert_eq!(PhotoFormat::sniff(b"RIFF\0\0\0\0AVI LIST"), None);
        assert_eq!(PhotoFormat::sniff(b"<svg xmlns"), None);
    }
}
