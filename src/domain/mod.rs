//! Plain types with their rules: what a valid username, password or photo is.

pub mod caption;
pub mod password;
pub mod photo_id;
pub mod photo_image;
pub mod thumbnail;
pub mod username;

pub use caption::Caption;
pub use password::Password;
pub use photo_id::PhotoId;
pub use username::Username;
