//! photoscale's provisioning side: one plain-data `StackSpec` per level of the
//! scaling ladder, which providers (this machine, AWS) apply.
//!
//! ```text
//! level N + overrides ──► StackSpec ──► LocalProvider | AwsProvider
//! ```

pub mod autoscale;
pub mod doctor;
pub mod local;
pub mod plan;
pub mod spec;

pub use spec::{Overrides, SpecError, StackSpec};
