//! Why an upload is not a photo we accept (shown to the uploader), or an
//! I/O failure on our side.

/// Why a file is not accepted; each message is shown to the uploader.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoRejected {
    #[error("The file is empty. Choose a photo to upload.")]
    Empty,
    #[error("This file is not a JPEG, PNG, GIF or WebP image (whatever its name says). Choose a photo in one of those formats.")]
    UnsupportedType,
    #[error("This file looks like a {0} image but could not be read; it may be damaged. Try exporting it again.")]
    Unreadable(&'static str),
    #[error("Decoding this image would take {needed_mib} MiB of memory, more than this site allows ({budget_mib} MiB). Save it with fewer pixels or 8 bits per channel and try again.")]
    TooMuchMemory { needed_mib: u64, budget_mib: u64 },
    #[error("The image is {width} × {height} pixels, larger than this site accepts ({limit}). Resize it and try again.")]
    TooManyPixels {
        width: u32,
        height: u32,
        limit: String,
    },
}

/// A rejection to show the user, or an I/O failure on our side.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error(transparent)]
    Rejected(#[from] PhotoRejected),
    #[error("reading the uploaded file: {0}")]
    Io(#[from] std::io::Error),
}
