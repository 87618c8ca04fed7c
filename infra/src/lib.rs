//! photoscale's provisioning side: one plain-data `StackSpec` per level of the
//! scaling ladder, which providers (this machine, AWS) apply.
//!
//! ```text
//! level N + overrides ──► StackSpec ──► LocalProvider | AwsProvider
//! ```

pub mod app_config;
mod atomic_file;
pub mod autoscale;
#[cfg(feature = "aws")]
pub mod aws;
pub mod aws_names;
pub mod cron;
pub mod doctor;
pub mod local;
pub mod plan;
mod progress;
pub mod schedule;
pub mod spec;

pub use atomic_file::write_atomically;
pub use spec::{Overrides, SpecError, StackSpec};
