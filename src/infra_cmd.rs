//! The `infra` and `doctor` subcommands: turn flags into a `StackSpec` (from
//! the photoscale-infra crate) and print it or check its prerequisites.

use photoscale_infra::doctor::{self, BuildFeatures};
use photoscale_infra::plan::{self, Addresses};
use photoscale_infra::spec::{Cache, Overrides, Sessions, StackSpec, Storage, Target};

use crate::cli::{CacheArg, SessionsArg, StackArgs, StorageArg};

impl StackArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            port: self.port,
            sessions: self.sessions.map(|s| match s {
                SessionsArg::Memory => Sessions::Memory,
                SessionsArg::Cookie => Sessions::Cookie,
                SessionsArg::Memcached => Sessions::Memcached,
                SessionsArg::Redis => Sessions::Redis,
            }),
            storage: self.storage.map(|s| match s {
                StorageArg::Local => Storage::Local,
                StorageArg::Shared => Storage::Shared,
                StorageArg::S3 => Storage::S3,
            }),
            cache: self.cache.map(|c| match c {
                CacheArg::None => Cache::None,
                CacheArg::Memcached => Cache::Memcached,
                CacheArg::Redis => Cache::Redis,
            }),
            min: self.min,
            max: self.max,
            desired: self.desired,
        }
    }
}

fn spec_for(level: u8, stack: &StackArgs) -> anyhow::Result<(StackSpec, Addresses)> {
    let overrides = stack.overrides();
    let spec = StackSpec::for_level(level, Target::Local, &overrides)?;
    let addresses = Addresses::for_spec(&spec, spec.entry_port(&overrides));
    Ok((spec, addresses))
}

/// `photoscale infra plan`: what would run, without starting anything.
pub fn plan(level: u8, stack: &StackArgs, json: bool) -> anyhow::Result<()> {
    let (spec, addresses) = spec_for(level, stack)?;
    if json {
        let value = serde_json::json!({ "spec": spec, "addresses": addresses });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", plan::describe(&spec, &addresses));
    }
    Ok(())
}

/// `photoscale doctor`: exit status 0 only when the level can run here.
pub fn doctor(level: u8, stack: &StackArgs) -> anyhow::Result<bool> {
    let (spec, _) = spec_for(level, stack)?;
    let report = doctor::check(
        &spec,
        BuildFeatures {
            s3: cfg!(feature = "s3"),
        },
    );
    print!("{}", report.render());
    Ok(report.is_ready())
}
