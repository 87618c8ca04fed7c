//! What must hold for any input, target by target.

use std::cell::Cell;

use photoscale::configuration::{CliOverrides, ConfigSources, Settings};
use photoscale::domain::photo_image::{self, ImageLimits, PhotoFormat};
use photoscale::domain::photo_metadata;
use photoscale::domain::RedirectTarget;
use photoscale::uploads::receive::{receive_upload, ReceiveLimits};

const LIMITS: ImageLimits = ImageLimits {
    max_dimension: 4000,
    max_pixels: 4_000_000,
    thumbnail_size: 64,
};

/// A parsed `next` is a path on this site, and parsing it again keeps it.
pub fn redirect_target(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    if let Some(target) = RedirectTarget::parse(&text) {
        let t = target.as_str();
        assert!(t.starts_with('/') && !t.starts_with("//"), "{t:?}");
        assert!(
            !t.contains('\\') && !t.chars().any(char::is_control),
            "{t:?}"
        );
        assert_eq!(
            RedirectTarget::parse(t).as_ref(),
            Some(&target),
            "idempotent"
        );
    }
}

/// The whole check of an upload: sniff, header, decode budget, decode,
/// thumbnail, strip. Any input is accepted or refused, never a panic; an
/// accepted one has a thumbnail within the size and a stored file that is
/// what the hash says.
pub fn upload_check(input: &[u8]) {
    use sha2::Digest;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), input).unwrap();
    let Ok(cost) = photo_image::decode_cost(file.path(), &LIMITS) else {
        return;
    };
    // The budget a server would use: anything larger is refused before decoding.
    if cost > 64 * 1024 * 1024 {
        return;
    }
    if let Ok((photo, thumbnail)) = photo_image::inspect_and_thumbnail(file.path(), &LIMITS) {
        let stored = std::fs::read(file.path()).unwrap();
        assert_eq!(photo.sha256, hex::encode(sha2::Sha256::digest(&stored)));
        assert_eq!(photo.size_bytes, stored.len() as u64);
        let small = image::load_from_memory(&thumbnail.bytes).expect("the thumbnail decodes");
        assert!(small.width() <= 64 && small.height() <= 64);
    }
}

/// Stripping never panics, and stripping what it produced changes nothing.
pub fn metadata_strip(input: &[u8]) {
    let Some(format) = PhotoFormat::sniff(input) else {
        return;
    };
    if let Ok(stripped) = photo_metadata::strip(input, format) {
        let again = photo_metadata::strip(&stripped, format).expect("its own output parses");
        assert_eq!(again, stripped, "idempotent");
    }
}

/// Any configuration file loads or is refused with a message naming a fix
/// or the problem; never a panic.
pub fn configuration(input: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photoscale.toml");
    std::fs::write(&path, input).unwrap();
    let sources = ConfigSources {
        file: Some(path),
        overrides: CliOverrides::default(),
    };
    if let Err(e) = Settings::load(&sources) {
        assert!(!e.to_string().is_empty());
    }
}

/// Any body, read as the upload form: received within its limits or
/// refused, never a panic, and never more on disk than the limit.
pub fn multipart(input: &[u8]) {
    use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body = bytes::Bytes::copy_from_slice(input);
    let receiving = async {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=b"),
        );
        // The body arrives in pieces, as from a network.
        let pieces: Vec<Result<bytes::Bytes, actix_web::error::PayloadError>> = body
            .chunks(97)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let received = Cell::new(input.len() as u64);
        let mut payload =
            actix_multipart::Multipart::new(&headers, futures_util::stream::iter(pieces));
        let csrf_ok = |token: Option<&str>| token == Some("t");
        let limits = ReceiveLimits {
            max_bytes: 4096,
            received: &received,
            csrf_ok: &csrf_ok,
        };
        if let Ok(form) = receive_upload(&mut payload, dir.path(), &limits).await {
            if let Some(photo) = form.photo {
                let size = std::fs::metadata(photo.file.path()).map_or(0, |m| m.len());
                assert!(size <= 4096, "{size} bytes written past the limit");
            }
        }
    };
    // The whole body is there: reading it must end, one way or the other.
    let finished = runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(5), receiving).await
    });
    assert!(finished.is_ok(), "the receiver hung on a complete body");
}
