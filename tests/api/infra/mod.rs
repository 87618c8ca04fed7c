//! `photoscale infra` on the local target: every level stood up with real
//! HAProxy, MariaDB, memcached, Redis and an S3 server, driven through the
//! load balancer like a user would.

mod autoscaling;
#[cfg(feature = "aws")]
mod aws_cli;
mod deploy;
mod fleet_controls;
mod levels;
mod lifecycle;
mod moto_migration;
mod scheduled_backups;
mod scheduling;
mod soak;
pub mod stack;
mod state_files;
mod tour;
