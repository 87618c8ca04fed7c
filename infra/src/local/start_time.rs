//! When a process started, so that a recycled pid is not taken for the
//! process the stack started.

use serde::{Deserialize, Serialize};

/// When a process started, as the kernel tells it: the boot's id and the
/// start time in clock ticks since that boot. A recycled pid has another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTime {
    pub boot_id: String,
    pub ticks: u64,
}

impl StartTime {
    /// The start time of `pid`, if it exists.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the parenthesised name start at field 3 (the state);
        // the start time is field 22 (proc(5)).
        let ticks = stat.rsplit(')').next()?.split_whitespace().nth(19)?;
        Some(Self {
            boot_id: boot_id()?,
            ticks: ticks.parse().ok()?,
        })
    }
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_owned())
}
