//! The step `photoscale tour` is on, which the fleet view shows: the tour
//! writes it to a file in the stack's state directory, the view reads it.

use std::path::Path;

const FILE: &str = "tour-step.txt";

/// The step, if a tour is running on this stack.
pub fn read(state_dir: &Path) -> Option<String> {
    std::fs::read_to_string(state_dir.join(FILE)).ok()
}

/// Records the step. The file goes in the state directory once `infra up`
/// has made it (a directory that photoscale did not make is refused as a
/// state directory).
pub fn write(state_dir: &Path, text: &str) {
    if state_dir.join(".photoscale-state").exists() {
        let _ = std::fs::write(state_dir.join(FILE), text);
    }
}
