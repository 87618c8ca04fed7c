//! The `[infra]` section of the configuration file: defaults for the numbers
//! of `photoscale infra up` (and `plan`, `doctor`), under the same names as
//! its flags. A flag given on the command line wins over the file.
//!
//! ```toml
//! [infra]
//! port = 8080
//! min = 2
//! max = 6
//! alarm_period = "10s"
//! high_latency = "1s"
//! low_latency = "500ms"
//! cooldown = "30s"
//! grace_period = "10s"
//!
//! # Scheduled actions (level 3+), applied by `infra up`; see `infra schedule`.
//! [[infra.schedule]]
//! name = "weekday-mornings"
//! cron = "0 8 * * 1-5"
//! time_zone = "Europe/Paris"
//! min = 3
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct InfraSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub health_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_rise: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_fall: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub alarm_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<u32>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub high_latency: Option<Duration>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub low_latency: Option<Duration>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Duration>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<Duration>,
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub backup_every: Option<Duration>,
    /// `[[infra.schedule]]`: scheduled actions `infra up` applies at level 3+.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<photoscale_infra::schedule::ScheduledAction>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_actions_are_read_from_the_file() {
        let file: InfraSettings = toml::from_str(
            "[[schedule]]\nname = \"mornings\"\ncron = \"0 8 * * 1-5\"\ntime_zone = \"Europe/Paris\"\nmin = 3\n",
        )
        .unwrap();
        assert_eq!(file.schedule.len(), 1);
        assert_eq!(file.schedule[0].time_zone, "Europe/Paris");
        assert_eq!(file.schedule[0].min, Some(3));
        assert!(file.schedule[0].validate().is_ok());
        assert!(
            toml::from_str::<InfraSettings>("[[schedule]]\nname = \"x\"\nminimum = 3\n").is_err()
        );
    }
}
