//! `photoscale infra` on the local target: every level stood up with real
//! HAProxy, MariaDB, memcached, Redis and an S3 server, driven through the
//! load balancer like a user would.

#[cfg(feature = "s3")] // level 3 includes the S3 server
mod autoscaling;
#[cfg(feature = "aws")]
mod aws_cli;
mod levels;
mod lifecycle;
#[cfg(feature = "s3")]
mod moto_migration;
mod soak;
pub mod stack;
mod state_files;
#[cfg(feature = "s3")] // the tour climbs to level 4
mod tour;
