//! Plain types with their rules: what a valid username, password or photo is.

pub mod caption;
pub mod password;
pub mod photo_errors;
pub mod photo_format;
pub mod photo_id;
pub mod photo_image;
pub mod photo_metadata;
pub mod redirect_target;
pub mod thumbnail;
pub mod username;

pub use caption::Caption;
pub use password::Password;
pub use photo_id::PhotoId;
pub use redirect_target::RedirectTarget;
pub use username::Username;
