//! Metadata stripped from originals before they are stored: EXIF (with its
//! GPS position, camera serial number, time taken), XMP, IPTC, comments and
//! text chunks. Losslessly: the image data is copied byte for byte, never
//! re-encoded. What a file keeps: its pixels, its colour profile (ICC, JFIF
//! and Adobe segments, PNG colour chunks), GIF animation settings, and the
//! EXIF orientation alone (rewritten as a minimal EXIF block of one tag), so
//! that nothing shows rotated.
//!
//! Each format is walked by its structure (JPEG segments, PNG chunks, WebP
//! RIFF chunks, GIF blocks). A file whose structure does not parse is
//! refused rather than stored with what could not be removed.

use image::metadata::Orientation;

use super::photo_format::PhotoFormat;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the {0} file's structure is damaged, so its metadata could not be removed")]
pub struct Damaged(pub &'static str);

/// The file without its metadata.
pub fn strip(bytes: &[u8], format: PhotoFormat) -> Result<Vec<u8>, Damaged> {
    match format {
        PhotoFormat::Jpeg => jpeg(bytes).ok_or(Damaged("JPEG")),
        PhotoFormat::Png => png(bytes).ok_or(Damaged("PNG")),
        PhotoFormat::WebP => webp(bytes).ok_or(Damaged("WebP")),
        PhotoFormat::Gif => gif(bytes).ok_or(Damaged("GIF")),
    }
}

/// A TIFF block (what EXIF is) holding one tag, the orientation.
fn orientation_tiff(orientation: Orientation) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&u16::from(orientation.to_exif()).to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// The orientation in a TIFF block, unless it is the default (upright).
fn turned(tiff: &[u8]) -> Option<Orientation> {
    Orientation::from_exif_chunk(tiff).filter(|o| o.to_exif() != 1)
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn be32(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn le32(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
}

// ---- JPEG: SOI, segments (marker, length, data), scans of entropy-coded data, EOI.

const EXIF_HEADER: &[u8] = b"Exif\0\0";

fn jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut kept = Vec::with_capacity(bytes.len());
    kept.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    let mut exif_at = None; // where the orientation block goes: after SOI/APP0
    let mut at = 2;
    loop {
        // Fill bytes (0xFF) may pad before a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        if marker == 0xD9 {
            kept.extend_from_slice(&[0xFF, 0xD9]);
            break; // EOI: whatever follows (appended data) is dropped too
        }
        let length = be16(bytes, at + 2)?;
        if length < 2 {
            return None;
        }
        let segment = bytes.get(at..at + 2 + length)?;
        let data = &segment[4..];
        let keep = match marker {
            0xE0 => true, // APP0: JFIF
            0xE1 => {
                if let Some(tiff) = data.strip_prefix(EXIF_HEADER) {
                    orientation = orientation.or_else(|| turned(tiff));
                }
                false // EXIF or XMP
            }
            0xE2 => data.starts_with(b"ICC_PROFILE\0"), // colour profile, not FlashPix/MPF
            0xEE => data.starts_with(b"Adobe"),         // colour transform
            0xE3..=0xEF => false,                       // IPTC (APP13) and the rest
            0xFE => false,                              // comment
            _ => true,                                  // tables, frame, restart interval
        };
        if exif_at.is_none() && marker != 0xE0 {
            exif_at = Some(kept.len());
        }
        if keep {
            kept.extend_from_slice(segment);
        }
        at += 2 + length;
        if marker == 0xDA {
            // Start of scan: copy the entropy-coded data up to the next
            // marker that is neither stuffing (FF 00) nor a restart (FF D0-D7).
            let start = at;
            loop {
                if *bytes.get(at)? == 0xFF {
                    let next = *bytes.get(at + 1)?;
                    if next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                        break;
                    }
                }
                at += 1;
            }
            kept.extend_from_slice(&bytes[start..at]);
        }
    }
    if let Some(orientation) = orientation {
        let tiff = orientation_tiff(orientation);
        let length = (2 + EXIF_HEADER.len() + tiff.len()) as u16;
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&length.to_be_bytes());
        app1.extend_from_slice(EXIF_HEADER);
        app1.extend_from_slice(&tiff);
        let at = exif_at.unwrap_or(2);
        kept.splice(at..at, app1);
    }
    Some(kept)
}

// ---- PNG: signature, chunks (length, type, data, CRC), IEND.

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn png(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return None;
    }
    let mut kept = PNG_SIGNATURE.to_vec();
    let mut orientation = None;
    let mut at = PNG_SIGNATURE.len();
    loop {
        let length = be32(bytes, at)?;
        let chunk = bytes.get(at..at.checked_add(12)?.checked_add(length)?)?;
        let kind = &chunk[4..8];
        let data = &chunk[8..8 + length];
        match kind {
            b"eXIf" => orientation = orientation.or_else(|| turned(data)),
            b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" => {}
            b"IDAT" | b"IEND" => {
                // eXIf must come before the image data.
                if let Some(o) = orientation.take() {
                    kept.extend_from_slice(&png_chunk(b"eXIf", &orientation_tiff(o)));
                }
                kept.extend_from_slice(chunk);
            }
            _ => kept.extend_from_slice(chunk),
        }
        at += chunk.len();
        if kind == b"IEND" {
            return Some(kept);
        }
    }
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    chunk
}

// ---- WebP: "RIFF", size, "WEBP", chunks (FourCC, little-endian size, data, pad to even).

fn webp(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let end = le32(bytes, 4)?.checked_add(8)?.min(bytes.len());
    let mut chunks = Vec::new();
    let mut orientation = None;
    let mut at = 12;
    while at + 8 <= end {
        let size = le32(bytes, at + 4)?;
        let padded = size + (size & 1);
        let chunk = bytes.get(at..at.checked_add(8)?.checked_add(size)?)?;
        match &chunk[0..4] {
            b"EXIF" => {
                let data = &chunk[8..];
                let tiff = data.strip_prefix(EXIF_HEADER).unwrap_or(data);
                orientation = orientation.or_else(|| turned(tiff));
            }
            b"XMP " => {}
            _ => chunks.push(chunk.to_vec()),
        }
        at += 8 + padded;
    }
    // Only the extended format (VP8X) carries metadata; its flags say which.
    if let Some(vp8x) = chunks.iter_mut().find(|c| c.starts_with(b"VP8X")) {
        let flags = vp8x.get_mut(8)?;
        *flags &= !(0x08 | 0x04); // EXIF, XMP
        if orientation.is_some() {
            *flags |= 0x08;
        }
    } else {
        orientation = None;
    }
    let mut body = b"WEBP".to_vec();
    for chunk in &chunks {
        body.extend_from_slice(chunk);
        if chunk.len() % 2 == 1 {
            body.push(0);
        }
    }
    if let Some(o) = orientation {
        let tiff = orientation_tiff(o);
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
        body.extend_from_slice(&tiff);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

// ---- GIF: header, screen descriptor (+ colour table), blocks, trailer.

fn gif(bytes: &[u8]) -> Option<Vec<u8>> {
    if !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return None;
    }
    let flags = *bytes.get(10)?;
    let mut at = 13 + colour_table_size(flags);
    let mut kept = bytes.get(..at)?.to_vec();
    loop {
        match *bytes.get(at)? {
            0x3B => {
                kept.push(0x3B);
                return Some(kept);
            }
            0x21 => {
                let label = *bytes.get(at + 1)?;
                let end = sub_blocks_end(bytes, at + 2)?;
                let keep = match label {
                    0xFE => false, // comment
                    // Application extensions: keep the animation loop count
                    // (NETSCAPE2.0, ANIMEXTS1.0), drop the rest (XMP and such).
                    0xFF => matches!(
                        bytes.get(at + 3..at + 14),
                        Some(b"NETSCAPE2.0" | b"ANIMEXTS1.0")
                    ),
                    _ => true, // graphic control, plain text
                };
                if keep {
                    kept.extend_from_slice(&bytes[at..end]);
                }
                at = end;
            }
            0x2C => {
                let flags = *bytes.get(at + 9)?;
                let data = at + 10 + colour_table_size(flags) + 1; // + LZW code size
                let end = sub_blocks_end(bytes, data)?;
                kept.extend_from_slice(&bytes[at..end]);
                at = end;
            }
            _ => return None,
        }
    }
}

fn colour_table_size(flags: u8) -> usize {
    if flags & 0x80 == 0 {
        0
    } else {
        3 << ((flags & 0x07) + 1)
    }
}

/// The index after a chain of sub-blocks (length byte, data) ended by a 0.
fn sub_blocks_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let length = *bytes.get(at)? as usize;
        at += 1 + length;
        if length == 0 {
            return (at <= bytes.len()).then_some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageEncoder, RgbImage};

    const SECRET: &[u8] = b"GPS 48.8584 N 2.2945 E serial 0451";

    fn exif_with(orientation: u16) -> Vec<u8> {
        // Little-endian TIFF: orientation, then an ASCII tag holding the secret.
        let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0x010Fu16.to_le_bytes()); // Make
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&(SECRET.len() as u32).to_le_bytes());
        tiff.extend_from_slice(&38u32.to_le_bytes());
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(SECRET);
        tiff
    }

    fn picture() -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        }))
    }

    fn jpeg_with_metadata(orientation: u16) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        encoder.set_exif_metadata(exif_with(orientation)).unwrap();
        encoder
            .write_image(picture().as_bytes(), 40, 30, image::ExtendedColorType::Rgb8)
            .unwrap();
        // A comment and an XMP packet after SOI as cameras and editors write them.
        let mut com = vec![0xFF, 0xFE];
        com.extend_from_slice(&((SECRET.len() + 2) as u16).to_be_bytes());
        com.extend_from_slice(SECRET);
        let mut xmp = vec![0xFF, 0xE1];
        let packet = [b"http://ns.adobe.com/xap/1.0/\0".as_slice(), SECRET].concat();
        xmp.extend_from_slice(&((packet.len() + 2) as u16).to_be_bytes());
        xmp.extend_from_slice(&packet);
        out.splice(2..2, [com, xmp].concat());
        out.extend_from_slice(SECRET); // appended after EOI
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn pixels(bytes: &[u8]) -> Vec<u8> {
        image::load_from_memory(bytes).unwrap().to_rgb8().into_raw()
    }

    #[test]
    fn jpeg_loses_every_secret_and_keeps_its_pixels_and_orientation() {
        let original = jpeg_with_metadata(6);
        assert!(contains(&original, SECRET));
        let stripped = strip(&original, PhotoFormat::Jpeg).unwrap();
        assert!(
            !contains(&stripped, SECRET),
            "no GPS, comment, XMP or trailer left"
        );
        assert_eq!(pixels(&stripped), pixels(&original), "not re-encoded");
        let mut decoder =
            image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&stripped)).unwrap();
        use image::ImageDecoder;
        assert_eq!(decoder.orientation().unwrap(), Orientation::Rotate90);
    }

    #[test]
    fn an_upright_jpeg_keeps_no_exif_at_all() {
        let stripped = strip(&jpeg_with_metadata(1), PhotoFormat::Jpeg).unwrap();
        assert!(!contains(&stripped, b"Exif\0\0"));
        assert!(image::load_from_memory(&stripped).is_ok());
    }

    #[test]
    fn png_loses_text_chunks_and_exif_but_keeps_orientation() {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(picture().as_bytes(), 40, 30, image::ExtendedColorType::Rgb8)
            .unwrap();
        // tEXt and eXIf before IDAT (the first chunk after IHDR, at 33).
        let extra = [
            png_chunk(b"tEXt", &[b"Comment\0".as_slice(), SECRET].concat()),
            png_chunk(b"eXIf", &exif_with(3)),
        ]
        .concat();
        out.splice(33..33, extra);
        let stripped = strip(&out, PhotoFormat::Png).unwrap();
        assert!(!contains(&stripped, SECRET));
        assert_eq!(pixels(&stripped), pixels(&out));
        let start = stripped.windows(4).position(|w| w == b"eXIf").unwrap() + 4;
        assert_eq!(turned(&stripped[start..]), Some(Orientation::Rotate180));
    }

    #[test]
    fn gif_loses_comments_and_foreign_application_blocks() {
        let mut out = Vec::new();
        image::codecs::gif::GifEncoder::new(&mut out)
            .encode(
                picture().to_rgba8().as_raw(),
                40,
                30,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        let mut comment = vec![0x21, 0xFE, SECRET.len() as u8];
        comment.extend_from_slice(SECRET);
        comment.push(0);
        let mut xmp = vec![0x21, 0xFF, 11];
        xmp.extend_from_slice(b"XMP DataXMP");
        xmp.push(SECRET.len() as u8);
        xmp.extend_from_slice(SECRET);
        xmp.push(0);
        let at = out.len() - 1; // before the trailer
        out.splice(at..at, [comment, xmp].concat());
        let stripped = strip(&out, PhotoFormat::Gif).unwrap();
        assert!(!contains(&stripped, SECRET));
        assert_eq!(pixels(&stripped), pixels(&out));
    }

    #[test]
    fn webp_loses_exif_and_xmp() {
        // A lossless WebP wrapped in the extended format with both chunks.
        let mut simple = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
            .encode(picture().as_bytes(), 40, 30, image::ExtendedColorType::Rgb8)
            .unwrap();
        let image_chunk = &simple[12..];
        let mut vp8x = b"VP8X".to_vec();
        vp8x.extend_from_slice(&10u32.to_le_bytes());
        vp8x.push(0x08 | 0x04);
        vp8x.extend_from_slice(&[0, 0, 0]);
        vp8x.extend_from_slice(&39u32.to_le_bytes()[..3]);
        vp8x.extend_from_slice(&29u32.to_le_bytes()[..3]);
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = kind.to_vec();
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let body = [
            b"WEBP".as_slice(),
            &vp8x,
            image_chunk,
            &chunk(b"EXIF", &exif_with(8)),
            &chunk(b"XMP ", SECRET),
        ]
        .concat();
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        file.extend_from_slice(&body);
        let stripped = strip(&file, PhotoFormat::WebP).unwrap();
        assert!(!contains(&stripped, SECRET));
        assert_eq!(pixels(&stripped), pixels(&file));
        assert_eq!(stripped[20] & 0x04, 0, "the XMP flag is cleared");
    }

    #[test]
    fn damaged_files_are_refused_not_stored_half_stripped() {
        let original = jpeg_with_metadata(1);
        for cut in [3, 10, original.len() / 2] {
            assert!(
                strip(&original[..cut], PhotoFormat::Jpeg).is_err(),
                "cut at {cut}"
            );
        }
        assert!(strip(b"\x89PNG\r\n\x1a\n\0\0", PhotoFormat::Png).is_err());
        assert!(strip(b"GIF89a", PhotoFormat::Gif).is_err());
        assert!(strip(b"RIFF\x04\0\0\0WEB", PhotoFormat::WebP).is_err());
    }
}
