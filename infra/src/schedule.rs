//! Scheduled scaling: capacity set ahead of known load, with the meaning of
//! an Auto Scaling scheduled action. At its time an action sets the group's
//! minimum, maximum and desired capacity (each optional; a desired capacity
//! outside the new bounds is moved inside them), and the alarms keep
//! scaling within the new bounds. It recurs on a five-field cron pattern
//! (`--cron "0 8 * * 1-5"`) or runs once (`--at 2026-12-01T08:00`), in an
//! explicit time zone (UTC unless given).
//!
//! The local autoscaler evaluates the actions itself (`due`); the AWS
//! provider hands them to Auto Scaling as scheduled actions.

use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::cron::CronPattern;

/// One scheduled action, as written in `[[infra.schedule]]` and given to
/// `infra schedule add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledAction {
    pub name: String,
    /// A five-field cron pattern: minute hour day-of-month month day-of-week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Once, at this time: `2026-12-01T08:00` (in `time_zone`) or with an
    /// offset, `2026-12-01T08:00:00Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// An IANA time zone, e.g. Europe/Paris.
    #[serde(default = "utc")]
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<u32>,
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("schedule name {0:?}: use 1 to 255 letters, digits, '-' or '_'")]
    Name(String),
    #[error(
        "schedule {0}: give either --cron (recurring) or --at (once), not both and not neither"
    )]
    When(String),
    #[error("schedule {name}: {pattern:?} is not a five-field cron pattern ({reason}); e.g. \"0 8 * * 1-5\" is 08:00 on weekdays")]
    Cron {
        name: String,
        pattern: String,
        reason: String,
    },
    #[error("schedule {name}: {text:?} is not a time; use e.g. 2026-12-01T08:00 (in the time zone) or 2026-12-01T08:00:00Z")]
    At { name: String, text: String },
    #[error(
        "schedule {name}: unknown time zone {zone:?}; use an IANA name such as UTC or Europe/Paris"
    )]
    TimeZone { name: String, zone: String },
    #[error("schedule {0}: set at least one of --min, --max, --desired")]
    NoCapacity(String),
    #[error("schedule {name}: {detail}")]
    Capacity { name: String, detail: String },
}

/// The group's bounds and desired capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub min: u32,
    pub max: u32,
    pub desired: u32,
}

impl ScheduledAction {
    /// Checks every field, saying what is wrong and how to write it.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 255
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(ScheduleError::Name(self.name.clone()));
        }
        self.zone()?;
        match (&self.cron, &self.at) {
            (Some(_), None) => {
                self.pattern()?;
            }
            (None, Some(_)) => {
                self.at_timestamp()?;
            }
            _ => return Err(ScheduleError::When(self.name.clone())),
        }
        if self.min.is_none() && self.max.is_none() && self.desired.is_none() {
            return Err(ScheduleError::NoCapacity(self.name.clone()));
        }
        let capacity = |detail: String| ScheduleError::Capacity {
            name: self.name.clone(),
            detail,
        };
        if let (Some(min), Some(max)) = (self.min, self.max) {
            if min > max {
                return Err(capacity(format!("--min {min} is above --max {max}")));
            }
        }
        if let Some(desired) = self.desired {
            if self.min.is_some_and(|min| desired < min)
                || self.max.is_some_and(|max| desired > max)
            {
                return Err(capacity(format!(
                    "--desired {desired} is outside --min/--max"
                )));
            }
        }
        if self.max == Some(0) {
            return Err(capacity("--max 0 would leave no instance".into()));
        }
        Ok(())
    }

    fn zone(&self) -> Result<TimeZone, ScheduleError> {
        TimeZone::get(&self.time_zone).map_err(|_| ScheduleError::TimeZone {
            name: self.name.clone(),
            zone: self.time_zone.clone(),
        })
    }

    fn pattern(&self) -> Result<Option<CronPattern>, ScheduleError> {
        let Some(pattern) = &self.cron else {
            return Ok(None);
        };
        pattern
            .parse::<CronPattern>()
            .map(Some)
            .map_err(|reason| ScheduleError::Cron {
                name: self.name.clone(),
                pattern: pattern.clone(),
                reason,
            })
    }

    /// `--at` as an instant: with an offset as written, else in the zone.
    pub fn at_timestamp(&self) -> Result<Option<Timestamp>, ScheduleError> {
        let Some(text) = &self.at else {
            return Ok(None);
        };
        let bad = || ScheduleError::At {
            name: self.name.clone(),
            text: text.clone(),
        };
        if let Ok(instant) = Timestamp::from_str(text) {
            return Ok(Some(instant));
        }
        let civil = jiff::civil::DateTime::from_str(text).map_err(|_| bad())?;
        let zoned = civil.to_zoned(self.zone()?).map_err(|_| bad())?;
        Ok(Some(zoned.timestamp()))
    }

    /// What the action makes of `current`: the new bounds, and the desired
    /// capacity (given, or kept) moved inside them, as Auto Scaling does.
    pub fn apply_to(&self, current: Capacity) -> Capacity {
        let min = self.min.unwrap_or(current.min);
        let max = self.max.unwrap_or(current.max).max(min);
        let desired = self.desired.unwrap_or(current.desired).clamp(min, max);
        Capacity { min, max, desired }
    }

    /// When the action next runs after `after` (None for a past `--at`).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        if let Ok(Some(at)) = self.at_timestamp() {
            return (at > after).then_some(at);
        }
        let cron = self.pattern().ok()??;
        cron.next_after(after, &self.zone().ok()?)
    }

    /// True when the action runs in (`after`, `until`]: the minute it is
    /// set for began in that span. A span longer than an hour (the
    /// autoscaler was stopped) looks back one hour only, as a missed
    /// action is not worth a burst of catching up.
    pub fn due(&self, after: Timestamp, until: Timestamp) -> bool {
        let earliest = until.checked_sub(1.hour()).unwrap_or(until);
        let after = after.max(earliest);
        self.next_after(after).is_some_and(|next| next <= until)
    }

    /// How the action reads in `schedule list`.
    pub fn when_text(&self) -> String {
        match (&self.cron, &self.at) {
            (Some(cron), _) => format!("cron \"{cron}\" {}", self.time_zone),
            (_, Some(at)) => format!("once at {at} {}", self.time_zone),
            _ => "never".into(),
        }
    }

    pub fn capacity_text(&self) -> String {
        let part = |label: &str, value: Option<u32>| value.map(|v| format!("{label} {v}"));
        [
            part("min", self.min),
            part("max", self.max),
            part("desired", self.desired),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Checks a list: each action, and no name twice.
pub fn validate_all(actions: &[ScheduledAction]) -> Result<(), ScheduleError> {
    for (i, action) in actions.iter().enumerate() {
        action.validate()?;
        if actions[..i].iter().any(|a| a.name == action.name) {
            return Err(ScheduleError::Name(format!(
                "{} (given twice)",
                action.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(cron: Option<&str>, at: Option<&str>) -> ScheduledAction {
        ScheduledAction {
            name: "morning".into(),
            cron: cron.map(str::to_owned),
            at: at.map(str::to_owned),
            time_zone: "UTC".into(),
            min: Some(3),
            max: Some(6),
            desired: None,
        }
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_cron_action_is_due_in_the_span_that_holds_its_minute() {
        let a = action(Some("0 8 * * 1-5"), None);
        // Friday 2026-11-27, 08:00 UTC.
        assert!(a.due(ts("2026-11-27T07:59:59Z"), ts("2026-11-27T08:00:00Z")));
        assert!(a.due(ts("2026-11-27T07:59:30Z"), ts("2026-11-27T08:00:30Z")));
        assert!(!a.due(ts("2026-11-27T08:00:00Z"), ts("2026-11-27T08:00:59Z")));
        assert!(!a.due(ts("2026-11-27T07:58:00Z"), ts("2026-11-27T07:59:59Z")));
        // Saturday: not a weekday.
        assert!(!a.due(ts("2026-11-28T07:59:59Z"), ts("2026-11-28T08:00:01Z")));
    }

    #[test]
    fn the_time_zone_is_the_one_named() {
        let mut a = action(Some("0 8 * * *"), None);
        a.time_zone = "Europe/Paris".into();
        // 08:00 in Paris in November is 07:00 UTC.
        assert!(a.due(ts("2026-11-27T06:59:59Z"), ts("2026-11-27T07:00:00Z")));
        assert!(!a.due(ts("2026-11-27T07:59:59Z"), ts("2026-11-27T08:00:00Z")));
        assert_eq!(
            a.next_after(ts("2026-11-27T07:00:00Z")),
            Some(ts("2026-11-28T07:00:00Z"))
        );
    }

    #[test]
    fn a_one_time_action_runs_once() {
        let a = action(None, Some("2026-12-01T08:00"));
        assert!(a.due(ts("2026-12-01T07:59:59Z"), ts("2026-12-01T08:00:00Z")));
        assert!(!a.due(ts("2026-12-01T08:00:00Z"), ts("2026-12-02T08:00:00Z")));
        let with_offset = action(None, Some("2026-12-01T08:00:00+01:00"));
        assert_eq!(
            with_offset.at_timestamp().unwrap(),
            Some(ts("2026-12-01T07:00:00Z"))
        );
    }

    #[test]
    fn a_long_gap_does_not_replay_old_actions() {
        let a = action(Some("0 8 * * *"), None);
        assert!(!a.due(ts("2026-11-27T07:59:00Z"), ts("2026-11-27T10:00:00Z")));
    }

    #[test]
    fn capacity_moves_desired_inside_the_new_bounds() {
        let now = Capacity {
            min: 2,
            max: 4,
            desired: 2,
        };
        let a = action(Some("0 8 * * *"), None);
        assert_eq!(
            a.apply_to(now),
            Capacity {
                min: 3,
                max: 6,
                desired: 3
            }
        );
        let mut evening = action(Some("0 20 * * *"), None);
        evening.min = None;
        evening.max = Some(2);
        let busy = Capacity {
            min: 1,
            max: 6,
            desired: 5,
        };
        assert_eq!(
            evening.apply_to(busy),
            Capacity {
                min: 1,
                max: 2,
                desired: 2
            }
        );
    }

    #[test]
    fn bad_actions_say_what_is_wrong() {
        let errors = [
            (action(Some("0 8 * *"), None), "five-field cron"),
            (action(Some("0 0 8 * * *"), None), "five-field cron"),
            (action(None, None), "either --cron"),
            (
                action(Some("0 8 * * *"), Some("2026-12-01T08:00")),
                "either --cron",
            ),
            (action(None, Some("tomorrow")), "is not a time"),
        ];
        for (a, expected) in errors {
            let message = a.validate().unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
        }
        let mut a = action(Some("0 8 * * *"), None);
        a.time_zone = "Mars/Olympus".into();
        assert!(a.validate().unwrap_err().to_string().contains("IANA"));
        let mut a = action(Some("0 8 * * *"), None);
        a.min = Some(7);
        assert!(a
            .validate()
            .unwrap_err()
            .to_string()
            .contains("above --max"));
        let mut a = action(Some("0 8 * * *"), None);
        (a.min, a.max, a.desired) = (None, None, None);
        assert_eq!(
            a.validate(),
            Err(ScheduleError::NoCapacity("morning".into()))
        );
        let mut a = action(Some("0 8 * * *"), None);
        a.name = "two words".into();
        assert!(matches!(a.validate(), Err(ScheduleError::Name(_))));
        let ok = action(Some("0 8 * * 1-5"), None);
        assert!(validate_all(&[ok.clone(), ok])
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }
}
