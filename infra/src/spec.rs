//! The stack a level stands for, as plain data: what runs, where, and how it
//! is wired. Built from a level and the user's overrides; it knows nothing
//! about how a provider makes it real.

use serde::{Deserialize, Serialize};

/// The highest level of the ladder.
pub const MAX_LEVEL: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Local,
    Aws,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    /// The embedded default: a file beside the one instance.
    Sqlite,
    /// A private MariaDB (the tutorial's RDS MySQL).
    Mariadb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// Each instance's own directory (breaks with two instances, on purpose).
    Local,
    /// One directory every instance uses (the NFS export).
    Shared,
    /// A bucket on an S3-compatible server (or S3).
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sessions {
    /// Per instance: "logged out on the other server", on purpose.
    Memory,
    Cookie,
    Memcached,
    Redis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    None,
    Memcached,
    Redis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub path: String,
    pub interval_ms: u64,
    /// Consecutive successes before an instance gets traffic.
    pub rise: u32,
    /// Consecutive failures before it stops getting traffic.
    pub fall: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub port: u16,
    pub health_check: HealthCheck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    pub min: u32,
    pub max: u32,
    pub desired: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    GreaterThanThreshold,
    LessThanThreshold,
}

/// A CloudWatch-style alarm on the load balancer's average response time,
/// wired to a simple scaling policy that changes capacity by `adjustment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    /// ALB TargetResponseTime / ELB Latency, read from the load balancer.
    pub metric: String,
    pub statistic: String,
    pub period_s: u64,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold_ms: u64,
    pub comparison: Comparison,
    pub adjustment: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scaling {
    pub alarms: Vec<Alarm>,
    pub cooldown_s: u64,
    pub health_check_grace_period_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackSpec {
    pub level: u8,
    pub target: Target,
    /// None at level 0: the one instance is reached directly.
    pub load_balancer: Option<LoadBalancer>,
    pub database: Database,
    pub storage: Storage,
    pub sessions: Sessions,
    pub cache: Cache,
    pub fleet: Fleet,
    /// None below level 3: the fleet size is fixed.
    pub scaling: Option<Scaling>,
    /// Level 1+: the fleet backs the database up this often, in seconds
    /// (`--backup-every`; one instance at a time, see the app's backup
    /// module). Off when None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_every_s: Option<u64>,
}

/// What the user may change about a level (`infra up` flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub port: Option<u16>,
    pub sessions: Option<Sessions>,
    pub storage: Option<Storage>,
    pub cache: Option<Cache>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub desired: Option<u32>,
    /// Health check interval, in milliseconds.
    pub health_interval_ms: Option<u64>,
    pub health_rise: Option<u32>,
    pub health_fall: Option<u32>,
    /// The alarms' period, in seconds.
    pub alarm_period_s: Option<u64>,
    pub evaluation_periods: Option<u32>,
    /// Above this average response time (ms), add an instance.
    pub high_latency_ms: Option<u64>,
    /// Below this average response time (ms), remove an instance.
    pub low_latency_ms: Option<u64>,
    pub cooldown_s: Option<u64>,
    pub grace_period_s: Option<u64>,
    /// Scheduled backups, in seconds.
    pub backup_every_s: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("there is no level {0}\n  fix: choose a level from 0 to {MAX_LEVEL}")]
    NoSuchLevel(u8),
    #[error("{what} cannot be changed at level 0, which runs one instance on the embedded default\n  fix: use --level 1 or higher")]
    NotAtLevelZero { what: &'static str },
    #[error("the fleet size is inconsistent: min {min}, desired {desired}, max {max}\n  fix: choose numbers with 1 <= min <= desired <= max <= 20")]
    BadFleet { min: u32, desired: u32, max: u32 },
    #[error("--storage s3 needs level 2 or higher, where the S3 server is part of the stack\n  fix: use --level 2")]
    S3BelowLevelTwo,
    #[error("--port 0 is not a port\n  fix: choose a free port, e.g. --port 8080")]
    PortZero,
    #[error("{what} must be at least {min}\n  fix: e.g. --health-interval 2s --health-rise 2 --health-fall 3")]
    BadHealthCheck { what: &'static str, min: u64 },
    #[error("{what} has no load balancer at level 0\n  fix: use --level 1 or higher")]
    NoLoadBalancer { what: &'static str },
    #[error(
        "{what} configures autoscaling, which starts at level 3\n  fix: use --level 3 or higher"
    )]
    NoAutoscaling { what: &'static str },
    #[error("{0}\n  fix: e.g. --alarm-period 10s --evaluation-periods 1 --high-latency 1s --low-latency 500ms")]
    BadAlarm(String),
    #[error("{0}")]
    NotOnAws(String),
}

const DEFAULT_PORT: u16 = 8080;
const MAX_FLEET: u32 = 20;

impl StackSpec {
    /// The stack for `level` on `target`, with `overrides` applied and checked.
    pub fn for_level(level: u8, target: Target, overrides: &Overrides) -> Result<Self, SpecError> {
        if level > MAX_LEVEL {
            return Err(SpecError::NoSuchLevel(level));
        }
        let mut spec = Self::defaults(level, target);
        spec.apply(overrides)?;
        if target == Target::Aws {
            spec.check_for_aws(overrides)?;
        }
        Ok(spec)
    }

    /// The classic ladder, each level adding one thing to the one below.
    fn defaults(level: u8, target: Target) -> Self {
        let mut spec = Self {
            level,
            target,
            load_balancer: None,
            database: Database::Sqlite,
            storage: Storage::Local,
            sessions: Sessions::Cookie,
            cache: Cache::None,
            fleet: Fleet {
                min: 1,
                max: 1,
                desired: 1,
            },
            scaling: None,
            backup_every_s: None,
        };
        if level >= 1 {
            spec.load_balancer = Some(LoadBalancer {
                port: DEFAULT_PORT,
                health_check: HealthCheck {
                    path: "/healthz".into(),
                    interval_ms: 2000,
                    rise: 2,
                    fall: 3,
                },
            });
            spec.database = Database::Mariadb;
            spec.storage = Storage::Shared;
            spec.sessions = Sessions::Memcached;
            spec.fleet = Fleet {
                min: 2,
                max: 2,
                desired: 2,
            };
        }
        if level >= 2 {
            spec.storage = Storage::S3;
        }
        if let (Target::Aws, Some(lb)) = (target, spec.load_balancer.as_mut()) {
            // An ALB listens on 80 and checks no more often than every 5 s.
            lb.port = 80;
            lb.health_check.interval_ms = 10_000;
        }
        if level >= 3 {
            spec.fleet = Fleet {
                min: 2,
                max: 6,
                desired: 2,
            };
            let mut scaling = Scaling::tutorial();
            if target == Target::Aws {
                // A real instance boots for minutes (cloud-init, packages,
                // the download) before it answers its health check.
                scaling.health_check_grace_period_s = 300;
            }
            spec.scaling = Some(scaling);
        }
        if level >= 4 {
            spec.cache = Cache::Memcached;
        }
        spec
    }

    fn apply(&mut self, o: &Overrides) -> Result<(), SpecError> {
        if self.level == 0 {
            let what = match () {
                _ if o.sessions.is_some() => Some("--sessions"),
                _ if o.storage.is_some() => Some("--storage"),
                _ if o.cache.is_some() => Some("--cache"),
                _ if o.min.is_some() || o.max.is_some() || o.desired.is_some() => {
                    Some("the fleet size")
                }
                _ if o.backup_every_s.is_some() => Some(
                    "--backup-every (scheduled backups of a fleet; at level 0 run `photoscale backup create`, e.g. from cron)",
                ),
                _ => None,
            };
            if let Some(what) = what {
                return Err(SpecError::NotAtLevelZero { what });
            }
        }
        if o.storage == Some(Storage::S3) && self.level < 2 {
            return Err(SpecError::S3BelowLevelTwo);
        }
        if o.port == Some(0) {
            return Err(SpecError::PortZero);
        }
        if let (Some(port), Some(lb)) = (o.port, self.load_balancer.as_mut()) {
            lb.port = port;
        }
        self.apply_health_check(o)?;
        self.apply_scaling(o)?;
        self.sessions = o.sessions.unwrap_or(self.sessions);
        self.storage = o.storage.unwrap_or(self.storage);
        self.cache = o.cache.unwrap_or(self.cache);
        self.backup_every_s = o.backup_every_s.map(|s| s.max(1));
        self.apply_fleet(o)
    }

    fn apply_health_check(&mut self, o: &Overrides) -> Result<(), SpecError> {
        let given = [
            ("--health-interval", o.health_interval_ms.is_some()),
            ("--health-rise", o.health_rise.is_some()),
            ("--health-fall", o.health_fall.is_some()),
        ];
        let Some(lb) = self.load_balancer.as_mut() else {
            return match given.iter().find(|(_, is_given)| *is_given) {
                Some((what, _)) => Err(SpecError::NoLoadBalancer { what }),
                None => Ok(()),
            };
        };
        let hc = &mut lb.health_check;
        hc.interval_ms = o.health_interval_ms.unwrap_or(hc.interval_ms);
        hc.rise = o.health_rise.unwrap_or(hc.rise);
        hc.fall = o.health_fall.unwrap_or(hc.fall);
        if hc.interval_ms < 100 {
            return Err(SpecError::BadHealthCheck {
                what: "--health-interval",
                min: 100,
            });
        }
        if hc.rise == 0 || hc.fall == 0 {
            let what = if hc.rise == 0 {
                "--health-rise"
            } else {
                "--health-fall"
            };
            return Err(SpecError::BadHealthCheck { what, min: 1 });
        }
        Ok(())
    }

    fn apply_scaling(&mut self, o: &Overrides) -> Result<(), SpecError> {
        let given = [
            ("--alarm-period", o.alarm_period_s.is_some()),
            ("--evaluation-periods", o.evaluation_periods.is_some()),
            ("--high-latency", o.high_latency_ms.is_some()),
            ("--low-latency", o.low_latency_ms.is_some()),
            ("--cooldown", o.cooldown_s.is_some()),
            ("--grace-period", o.grace_period_s.is_some()),
        ];
        let Some(scaling) = self.scaling.as_mut() else {
            return match given.iter().find(|(_, is_given)| *is_given) {
                Some((what, _)) => Err(SpecError::NoAutoscaling { what }),
                None => Ok(()),
            };
        };
        scaling.cooldown_s = o.cooldown_s.unwrap_or(scaling.cooldown_s);
        scaling.health_check_grace_period_s = o
            .grace_period_s
            .unwrap_or(scaling.health_check_grace_period_s);
        for alarm in &mut scaling.alarms {
            alarm.period_s = o.alarm_period_s.unwrap_or(alarm.period_s);
            if let Some(n) = o.evaluation_periods {
                alarm.evaluation_periods = n;
                alarm.datapoints_to_alarm = n;
            }
            let threshold = match alarm.comparison {
                Comparison::GreaterThanThreshold => o.high_latency_ms,
                Comparison::LessThanThreshold => o.low_latency_ms,
            };
            alarm.threshold_ms = threshold.unwrap_or(alarm.threshold_ms);
        }
        let (high, low) = (&scaling.alarms[0], &scaling.alarms[1]);
        if high.period_s == 0 || high.evaluation_periods == 0 {
            return Err(SpecError::BadAlarm(
                "the alarm period and the evaluation periods must be at least 1".into(),
            ));
        }
        if low.threshold_ms >= high.threshold_ms {
            return Err(SpecError::BadAlarm(format!(
                "--low-latency ({} ms) must be below --high-latency ({} ms), or the fleet would grow and shrink at once",
                low.threshold_ms, high.threshold_ms
            )));
        }
        Ok(())
    }

    fn apply_fleet(&mut self, o: &Overrides) -> Result<(), SpecError> {
        let fixed = self.scaling.is_none();
        let mut fleet = self.fleet;
        if let Some(desired) = o.desired {
            fleet.desired = desired;
            if fixed {
                // Without autoscaling, the fleet is exactly what was asked for.
                fleet.min = desired;
                fleet.max = desired;
            }
        }
        fleet.min = o.min.unwrap_or(fleet.min);
        fleet.max = o.max.unwrap_or(fleet.max);
        if o.desired.is_none() {
            fleet.desired = fleet.desired.clamp(fleet.min, fleet.max.max(fleet.min));
        }
        let ok = 1 <= fleet.min
            && fleet.min <= fleet.desired
            && fleet.desired <= fleet.max
            && fleet.max <= MAX_FLEET;
        if !ok {
            return Err(SpecError::BadFleet {
                min: fleet.min,
                desired: fleet.desired,
                max: fleet.max,
            });
        }
        self.fleet = fleet;
        Ok(())
    }

    /// What AWS itself cannot do: sub-5 s health checks, alarms on less than
    /// a minute of ALB metrics, one cache cluster with two engines.
    fn check_for_aws(&self, o: &Overrides) -> Result<(), SpecError> {
        let fail = |text: String| Err(SpecError::NotOnAws(text));
        if o.port.is_some() {
            return fail("--port is for the local target; on AWS the load balancer listens on 80 (and 443 with --certificate-arn)\n  fix: leave --port out".into());
        }
        if let Some(lb) = &self.load_balancer {
            let hc = &lb.health_check;
            if !(5_000..=300_000).contains(&hc.interval_ms) || hc.interval_ms % 1000 != 0 {
                return fail(format!("an ALB health check runs every 5 to 300 whole seconds, not every {} ms\n  fix: e.g. --health-interval 10s", hc.interval_ms));
            }
            if !(2..=10).contains(&hc.rise) || !(2..=10).contains(&hc.fall) {
                return fail("an ALB health check needs 2 to 10 checks in a row to change state\n  fix: e.g. --health-rise 2 --health-fall 3".into());
            }
        }
        if let Some(scaling) = &self.scaling {
            if scaling.alarms.iter().any(|a| a.period_s % 60 != 0) {
                return fail("CloudWatch has the load balancer's response time per minute, so an alarm period is a whole number of minutes\n  fix: e.g. --alarm-period 1m".into());
            }
        }
        let memcached = self.sessions == Sessions::Memcached || self.cache == Cache::Memcached;
        if memcached && self.needs_redis() {
            return fail("on AWS one ElastiCache cluster serves sessions and the feed cache, so they use one engine\n  fix: use memcached for both, or redis for both (--sessions redis --cache redis)".into());
        }
        Ok(())
    }

    /// The port users browse to: the load balancer's, or the one instance's.
    pub fn entry_port(&self, overrides: &Overrides) -> u16 {
        match &self.load_balancer {
            Some(lb) => lb.port,
            None => overrides.port.unwrap_or(DEFAULT_PORT),
        }
    }

    /// True when the stack runs a memcached server (sessions or cache).
    pub fn needs_memcached(&self) -> bool {
        self.sessions == Sessions::Memcached || self.cache == Cache::Memcached
    }

    pub fn needs_redis(&self) -> bool {
        self.sessions == Sessions::Redis || self.cache == Cache::Redis
    }
}

impl Scaling {
    /// The classic tutorial's numbers: average latency above 1 s for one
    /// minute adds an instance, below 0.5 s for one minute removes one, and
    /// each activity is followed by a 300 s cooldown.
    pub fn tutorial() -> Self {
        let alarm = |name: &str, threshold_ms, comparison, adjustment| Alarm {
            name: name.into(),
            metric: "TargetResponseTime".into(),
            statistic: "Average".into(),
            period_s: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            threshold_ms,
            comparison,
            adjustment,
        };
        Self {
            alarms: vec![
                alarm("latency-high", 1000, Comparison::GreaterThanThreshold, 1),
                alarm("latency-low", 500, Comparison::LessThanThreshold, -1),
            ],
            cooldown_s: 300,
            health_check_grace_period_s: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(n: u8) -> StackSpec {
        StackSpec::for_level(n, Target::Local, &Overrides::default()).unwrap()
    }

    fn on_aws(n: u8, overrides: Overrides) -> Result<StackSpec, SpecError> {
        StackSpec::for_level(n, Target::Aws, &overrides)
    }

    #[test]
    fn aws_defaults_are_what_an_alb_accepts() {
        let spec = on_aws(3, Overrides::default()).unwrap();
        let lb = spec.load_balancer.unwrap();
        assert_eq!(lb.port, 80);
        assert_eq!(lb.health_check.interval_ms, 10_000);
        assert_eq!(spec.scaling.unwrap().alarms[0].period_s, 60);
    }

    #[test]
    fn what_aws_cannot_do_is_refused_with_a_fix() {
        let refused = |n, o: Overrides, expected: &str| {
            let error = on_aws(n, o).unwrap_err().to_string();
            assert!(
                error.contains(expected) && error.contains("fix:"),
                "{error}"
            );
        };
        let fast_checks = Overrides {
            health_interval_ms: Some(500),
            ..Default::default()
        };
        refused(1, fast_checks, "5 to 300 whole seconds");
        let one_check = Overrides {
            health_rise: Some(1),
            ..Default::default()
        };
        refused(1, one_check, "2 to 10 checks");
        let short_period = Overrides {
            alarm_period_s: Some(10),
            ..Default::default()
        };
        refused(3, short_period, "whole number of minutes");
        let mixed = Overrides {
            sessions: Some(Sessions::Redis),
            ..Default::default()
        };
        refused(4, mixed, "one engine");
        let port = Overrides {
            port: Some(8081),
            ..Default::default()
        };
        refused(1, port, "--port is for the local target");
        let both_redis = Overrides {
            sessions: Some(Sessions::Redis),
            cache: Some(Cache::Redis),
            ..Default::default()
        };
        assert!(on_aws(4, both_redis).is_ok());
    }

    #[test]
    fn each_level_adds_one_thing() {
        let l0 = level(0);
        assert_eq!(
            (l0.database, l0.storage, l0.sessions),
            (Database::Sqlite, Storage::Local, Sessions::Cookie)
        );
        assert!(l0.load_balancer.is_none());
        assert_eq!(l0.fleet.desired, 1);

        let l1 = level(1);
        assert_eq!(
            (l1.database, l1.storage, l1.sessions),
            (Database::Mariadb, Storage::Shared, Sessions::Memcached)
        );
        assert_eq!(
            l1.fleet,
            Fleet {
                min: 2,
                max: 2,
                desired: 2
            }
        );
        assert_eq!(
            l1.load_balancer.as_ref().unwrap().health_check.path,
            "/healthz"
        );

        assert_eq!(level(2).storage, Storage::S3);

        let l3 = level(3);
        let scaling = l3.scaling.as_ref().unwrap();
        assert_eq!(scaling.cooldown_s, 300);
        assert_eq!(scaling.alarms[0].threshold_ms, 1000);
        assert_eq!(scaling.alarms[0].adjustment, 1);
        assert_eq!(scaling.alarms[1].threshold_ms, 500);
        assert_eq!(scaling.alarms[1].adjustment, -1);
        assert_eq!(l3.cache, Cache::None);

        assert_eq!(level(4).cache, Cache::Memcached);
        assert!(level(4).needs_memcached());
    }

    #[test]
    fn overrides_reproduce_the_classic_failures() {
        let o = Overrides {
            sessions: Some(Sessions::Memory),
            storage: Some(Storage::Local),
            ..Default::default()
        };
        let spec = StackSpec::for_level(1, Target::Local, &o).unwrap();
        assert_eq!(
            (spec.sessions, spec.storage),
            (Sessions::Memory, Storage::Local)
        );
        assert!(!spec.needs_memcached());
    }

    #[test]
    fn bad_overrides_are_explained() {
        let err = |n, o: Overrides| StackSpec::for_level(n, Target::Local, &o).unwrap_err();
        assert_eq!(
            StackSpec::for_level(5, Target::Local, &Overrides::default()).unwrap_err(),
            SpecError::NoSuchLevel(5)
        );
        assert!(matches!(
            err(
                0,
                Overrides {
                    sessions: Some(Sessions::Redis),
                    ..Default::default()
                }
            ),
            SpecError::NotAtLevelZero { .. }
        ));
        assert_eq!(
            err(
                1,
                Overrides {
                    storage: Some(Storage::S3),
                    ..Default::default()
                }
            ),
            SpecError::S3BelowLevelTwo
        );
        assert!(matches!(
            err(
                3,
                Overrides {
                    min: Some(4),
                    max: Some(3),
                    ..Default::default()
                }
            ),
            SpecError::BadFleet { .. }
        ));
        assert_eq!(
            err(
                1,
                Overrides {
                    port: Some(0),
                    ..Default::default()
                }
            ),
            SpecError::PortZero
        );
    }

    #[test]
    fn health_checks_follow_the_flags() {
        let o = Overrides {
            health_interval_ms: Some(500),
            health_rise: Some(1),
            health_fall: Some(2),
            ..Default::default()
        };
        let spec = StackSpec::for_level(1, Target::Local, &o).unwrap();
        let hc = &spec.load_balancer.unwrap().health_check;
        assert_eq!((hc.interval_ms, hc.rise, hc.fall), (500, 1, 2));
        let too_fast = Overrides {
            health_interval_ms: Some(10),
            ..Default::default()
        };
        assert!(matches!(
            StackSpec::for_level(1, Target::Local, &too_fast),
            Err(SpecError::BadHealthCheck { .. })
        ));
        assert!(matches!(
            StackSpec::for_level(0, Target::Local, &o),
            Err(SpecError::NoLoadBalancer { .. })
        ));
    }

    #[test]
    fn the_grace_period_covers_a_real_boot_on_aws_and_a_process_start_here() {
        let grace = |target| {
            StackSpec::for_level(3, target, &Overrides::default())
                .unwrap()
                .scaling
                .unwrap()
                .health_check_grace_period_s
        };
        assert_eq!(grace(Target::Local), 60);
        assert_eq!(grace(Target::Aws), 300);
    }

    #[test]
    fn autoscaling_numbers_follow_the_flags_without_changing_meaning() {
        let o = Overrides {
            alarm_period_s: Some(5),
            evaluation_periods: Some(2),
            high_latency_ms: Some(800),
            low_latency_ms: Some(200),
            cooldown_s: Some(10),
            grace_period_s: Some(3),
            ..Default::default()
        };
        let spec = StackSpec::for_level(3, Target::Local, &o).unwrap();
        let scaling = spec.scaling.unwrap();
        assert_eq!(
            (scaling.cooldown_s, scaling.health_check_grace_period_s),
            (10, 3)
        );
        let [high, low] = [&scaling.alarms[0], &scaling.alarms[1]];
        assert_eq!(
            (high.period_s, high.evaluation_periods, high.threshold_ms),
            (5, 2, 800)
        );
        assert_eq!((low.threshold_ms, low.adjustment), (200, -1));
        assert_eq!(high.comparison, Comparison::GreaterThanThreshold);
        let inverted = Overrides {
            high_latency_ms: Some(300),
            ..Default::default()
        };
        assert!(matches!(
            StackSpec::for_level(3, Target::Local, &inverted),
            Err(SpecError::BadAlarm(_))
        ));
        assert!(matches!(
            StackSpec::for_level(2, Target::Local, &o),
            Err(SpecError::NoAutoscaling { .. })
        ));
    }

    #[test]
    fn fleet_size_follows_the_flags() {
        let fixed = StackSpec::for_level(
            1,
            Target::Local,
            &Overrides {
                desired: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            fixed.fleet,
            Fleet {
                min: 3,
                max: 3,
                desired: 3
            }
        );
        let scaled = StackSpec::for_level(
            3,
            Target::Local,
            &Overrides {
                min: Some(1),
                max: Some(4),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            scaled.fleet,
            Fleet {
                min: 1,
                max: 4,
                desired: 2
            }
        );
    }
}
