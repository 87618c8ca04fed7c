//! Receiving an uploaded photo: stream it to a temporary file, check it, then
//! store it all-or-nothing.

pub mod bounded_body;
pub mod orphan_sweep;
pub mod receive;
pub mod save;
pub mod temp_file;

pub use receive::{receive_upload, ReceiveError, ReceivedPhoto, ReceivedUpload};
pub use save::save_photo;
pub use temp_file::TempUpload;
