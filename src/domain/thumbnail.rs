//! A photo's thumbnail: at most `size` pixels on its long side, turned the
//! way the camera says (EXIF orientation), as JPEG (or PNG where there is
//! transparency to keep).
//!
//! JPEGs, most uploads, are decoded at the scale the thumbnail needs: the
//! decoder's DCT scaling gives a 1/2, 1/4 or 1/8 size image directly, so a
//! 12-megapixel photo becomes a 500 × 375 one without ever existing at
//! full size (0.5 MB of pixels instead of 36 MB, and most of the work
//! skipped). Other formats, and the rare JPEG that the scaling decoder
//! does not handle, are decoded whole. Blocking CPU work: run it on the
//! blocking pool.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use jpeg_decoder::PixelFormat;
use sha2::{Digest, Sha256};

use super::photo_errors::{PhotoError, PhotoRejected};
use super::photo_format::PhotoFormat;

/// A photo's thumbnail: its bytes, format and SHA-256.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub format: PhotoFormat,
    pub sha256: String,
}

/// Makes the thumbnail of `bytes`, a `format` image of `dimensions` (both
/// already checked against the limits).
pub fn make(
    bytes: &[u8],
    format: PhotoFormat,
    dimensions: (u32, u32),
    size: u32,
) -> Result<Thumbnail, PhotoError> {
    let scaled = match format {
        PhotoFormat::Jpeg => scaled_jpeg(bytes, size),
        _ => None,
    };
    let image = match scaled {
        Some(image) => image,
        None => whole(bytes, format, dimensions)?,
    };
    let small = image.thumbnail(size, size);
    let (bytes, format) = encode(&small);
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Thumbnail {
        bytes,
        format,
        sha256,
    })
}

/// The JPEG decoded at the smallest DCT scale that still covers `size` on
/// its long side, turned upright; None when this decoder cannot do it (an
/// unusual pixel format, or data it refuses), so the caller decodes whole.
fn scaled_jpeg(bytes: &[u8], size: u32) -> Option<DynamicImage> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let request = u16::try_from(size).unwrap_or(u16::MAX);
    let (width, height) = decoder.scale(request, request).ok()?;
    // The output is at most the scaled size: refuse anything larger.
    let (w, h) = (u32::from(width), u32::from(height));
    decoder.set_max_decoding_buffer_size((w * h * 3) as usize);
    let pixels = decoder.decode().ok()?;
    let mut image = match info.pixel_format {
        PixelFormat::RGB24 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?),
        PixelFormat::L8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels)?),
        PixelFormat::L16 | PixelFormat::CMYK32 => return None,
    };
    if let Some(orientation) = decoder.exif_data().and_then(Orientation::from_exif_chunk) {
        image.apply_orientation(orientation);
    }
    Some(image)
}

/// The whole image, decoded by the `image` crate.
fn whole(
    bytes: &[u8],
    format: PhotoFormat,
    (width, height): (u32, u32),
) -> Result<DynamicImage, PhotoError> {
    let unreadable = |_| PhotoError::from(PhotoRejected::Unreadable(format.name()));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    // Defence in depth: the decoder itself refuses to grow past what the header promised.
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(width);
    decoder_limits.max_image_height = Some(height);
    decoder_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (64 << 20));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// JPEG for opaque images (small); PNG where there is transparency to keep.
fn encode(image: &DynamicImage) -> (Vec<u8>, PhotoFormat) {
    let mut out = std::io::Cursor::new(Vec::new());
    if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
            .write_to(&mut out, ImageFormat::Png)
            .expect("encoding PNG into memory cannot fail");
        (out.into_inner(), PhotoFormat::Png)
    } else {
        let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        rgb.write_with_encoder(encoder)
            .expect("encoding JPEG into memory cannot fail");
        (out.into_inner(), PhotoFormat::Jpeg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_file(image: &DynamicImage, orientation: Option<u16>) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90);
        if let Some(o) = orientation {
            image::ImageEncoder::set_exif_metadata(&mut encoder, exif_orientation(o)).unwrap();
        }
        image.write_with_encoder(encoder).unwrap();
        bytes.into_inner()
    }

    /// A minimal little-endian TIFF block with one Orientation entry.
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut exif = b"II*\0\x08\0\0\0\x01\0".to_vec();
        exif.extend_from_slice(&0x0112u16.to_le_bytes());
        exif.extend_from_slice(&3u16.to_le_bytes());
        exif.extend_from_slice(&1u32.to_le_bytes());
        exif.extend_from_slice(&value.to_le_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        exif
    }

    fn left_half_red(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                image::Rgb([220, 20, 20])
            } else {
                image::Rgb([20, 20, 220])
            }
        }))
    }

    #[test]
    fn a_large_jpeg_is_decoded_at_a_fraction_of_its_size() {
        let file = jpeg_file(&left_half_red(3200, 2400), None);
        let scaled = scaled_jpeg(&file, 400).expect("the scaled decoder handles it");
        assert_eq!(
            (scaled.width(), scaled.height()),
            (400, 300),
            "1/8 of 3200 × 2400"
        );
        let thumb = make(&file, PhotoFormat::Jpeg, (3200, 2400), 400).unwrap();
        let t = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((t.width(), t.height()), (400, 300));
        assert_eq!(thumb.format, PhotoFormat::Jpeg);
    }

    #[test]
    fn the_scale_never_goes_below_the_thumbnail() {
        // 1/8 would give 375 × 250, short of 400: 1/4 it is.
        let file = jpeg_file(&left_half_red(3000, 2000), None);
        let scaled = scaled_jpeg(&file, 400).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (750, 500));
    }

    #[test]
    fn exif_orientation_is_applied() {
        // Orientation 6: the stored picture is to be turned 90° clockwise,
        // so the red left half ends up on top.
        let file = jpeg_file(&left_half_red(1600, 800), Some(6));
        let scaled = scaled_jpeg(&file, 400).expect("the scaled decoder handles it");
        assert_eq!(
            (scaled.width(), scaled.height()),
            (200, 400),
            "1/4, turned upright"
        );
        let thumb = make(&file, PhotoFormat::Jpeg, (1600, 800), 400).unwrap();
        let t = image::load_from_memory(&thumb.bytes).unwrap().to_rgb8();
        assert_eq!((t.width(), t.height()), (200, 400), "upright");
        let top = t.get_pixel(100, 20);
        let bottom = t.get_pixel(100, 380);
        assert!(top[0] > 150 && top[2] < 100, "red on top: {top:?}");
        assert!(bottom[2] > 150 && bottom[0] < 100, "blue below: {bottom:?}");
    }

    #[test]
    fn a_grey_jpeg_takes_the_scaled_path_too() {
        let grey = DynamicImage::ImageLuma8(GrayImage::from_fn(1600, 1200, |x, _| {
            image::Luma([(x % 256) as u8])
        }));
        let file = jpeg_file(&grey, None);
        assert!(scaled_jpeg(&file, 400).is_some());
        let thumb = make(&file, PhotoFormat::Jpeg, (1600, 1200), 400).unwrap();
        let t = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((t.width(), t.height()), (400, 300));
    }
}
