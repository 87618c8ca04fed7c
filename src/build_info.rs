//! Which build this program is: set by `build.rs` at compile time.

/// Version, commit and build time, e.g. `0.1.0+g1e0a923.20261126T171200Z`:
/// two builds of one version differ, so a person sees a fleet mixed during
/// a deploy.
pub const BUILD_ID: &str = env!("PSCALE_BUILD_ID");

/// The short commit the build was made from (`unknown` outside a git clone).
pub const COMMIT: &str = env!("PSCALE_BUILD_COMMIT");

/// When it was built, UTC.
pub const BUILT_AT: &str = env!("PSCALE_BUILT_AT");
