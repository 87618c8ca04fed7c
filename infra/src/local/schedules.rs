//! A local stack's scheduled actions (`infra schedule add|list|remove`,
//! `[[infra.schedule]]`), kept in `autoscaler/schedules.json`. The
//! autoscaler reads the file on every tick, so a change applies without a
//! restart, and runs each action in the second its minute begins.

use std::path::{Path, PathBuf};

use super::state::{write_private, StateDir};
use super::LocalError;
use crate::schedule::{validate_all, ScheduledAction};

pub fn schedules_path(root: &Path) -> PathBuf {
    root.join("autoscaler").join("schedules.json")
}

/// The stack's scheduled actions, in the order they were added.
pub fn read(root: &Path) -> Result<Vec<ScheduledAction>, LocalError> {
    let path = schedules_path(root);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).map_err(|e| LocalError::CorruptState(path, e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(LocalError::StateDir { path, source }),
    }
}

fn write(dir: &StateDir, actions: &[ScheduledAction]) -> Result<(), LocalError> {
    dir.dir("autoscaler");
    let text = serde_json::to_string_pretty(actions).expect("serialises");
    write_private(&schedules_path(dir.root()), text.as_bytes())
}

/// Opens the stack and checks it has a group to schedule: level 3 or 4.
fn scalable_stack(state_dir: &Path) -> Result<(StateDir, u32), LocalError> {
    let dir = StateDir::open(state_dir).ok_or_else(|| {
        LocalError::Missing(format!(
            "no stack runs from {}\n  fix: start one with `photoscale infra up --level 3`",
            state_dir.display()
        ))
    })?;
    let spec = dir.load()?.spec.ok_or_else(|| {
        LocalError::Missing(format!(
            "the stack in {} was never started",
            state_dir.display()
        ))
    })?;
    if spec.scaling.is_none() {
        return Err(LocalError::Missing(format!(
            "scheduled scaling needs an autoscaling group, which levels 3 and 4 have; this stack is level {}\n  fix: photoscale infra up --level 3",
            spec.level
        )));
    }
    Ok((dir, spec.fleet.max))
}

/// Adds `action`, or replaces the one of the same name; true when replaced.
pub async fn add(state_dir: &Path, action: ScheduledAction) -> Result<bool, LocalError> {
    let (dir, slots) = scalable_stack(state_dir)?;
    action
        .validate()
        .map_err(|e| LocalError::Missing(e.to_string()))?;
    let asked = action.max.or(action.desired).or(action.min).unwrap_or(0);
    if asked > slots {
        return Err(LocalError::Missing(format!(
            "schedule {}: {asked} instances is more than this stack has addresses for ({slots}, its --max)\n  fix: raise the stack's maximum first: photoscale infra up --level 3 --max {asked}",
            action.name
        )));
    }
    let _lock = dir.lock_waiting(std::time::Duration::from_secs(30)).await?;
    let mut actions = read(dir.root())?;
    let replaced = actions.iter().any(|a| a.name == action.name);
    actions.retain(|a| a.name != action.name);
    actions.push(action);
    write(&dir, &actions)?;
    Ok(replaced)
}

/// Adds or replaces each of `actions` (from `[[infra.schedule]]`), leaving
/// the others alone.
pub async fn apply(state_dir: &Path, actions: &[ScheduledAction]) -> Result<(), LocalError> {
    validate_all(actions).map_err(|e| LocalError::Missing(e.to_string()))?;
    for action in actions {
        add(state_dir, action.clone()).await?;
    }
    Ok(())
}

pub fn list(state_dir: &Path) -> Result<Vec<ScheduledAction>, LocalError> {
    let (dir, _) = scalable_stack(state_dir)?;
    read(dir.root())
}

pub async fn remove(state_dir: &Path, name: &str) -> Result<(), LocalError> {
    let (dir, _) = scalable_stack(state_dir)?;
    let _lock = dir.lock_waiting(std::time::Duration::from_secs(30)).await?;
    let mut actions = read(dir.root())?;
    if !actions.iter().any(|a| a.name == name) {
        let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
        return Err(LocalError::Missing(format!(
            "no scheduled action named {name:?}; the stack has: {}",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        )));
    }
    actions.retain(|a| a.name != name);
    write(&dir, &actions)
}
