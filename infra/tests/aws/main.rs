//! The AWS provider against moto in server mode (a local emulator of the AWS
//! APIs, `pip install 'moto[server]'`): every level's resources and their
//! attributes, read back with describe calls; idempotence; level changes;
//! and a `down` that leaves nothing tagged with the stack.
#![cfg(feature = "aws")]

mod delivery;
mod iam;
mod levels;
mod lifecycle;
mod moto;
mod network;
mod sweep;
