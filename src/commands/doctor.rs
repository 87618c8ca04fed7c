//! `photoscale doctor`: what a level needs on this machine, and how to
//! install what is missing.

use photoscale_infra::doctor;

use crate::commands::infra::args::StackArgs;
use crate::commands::infra::local::spec_for;
use crate::commands::output::print_stdout;

/// `photoscale doctor`: exit status 0 only when the level can run here.
pub fn doctor(level: u8, stack: &StackArgs) -> anyhow::Result<bool> {
    let (spec, _) = spec_for(level, stack)?;
    let report = doctor::check(&spec);
    print_stdout(&report.render());
    Ok(report.is_ready())
}

/// Runs `photoscale doctor`: fails when the level cannot run here yet.
pub fn run(level: u8, stack: &StackArgs, config: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let stack = crate::commands::infra::args::with_config_file(stack, config)?;
    if !doctor(level, &stack)? {
        anyhow::bail!(
            "level {level} cannot run on this machine yet: fix what the report above lists"
        );
    }
    Ok(())
}
