//! Where everything of a stack listens on this machine, and the text
//! `infra plan` prints. Ports are derived from the entry port, so two stacks
//! with different `--port` values never collide; each app instance gets its
//! own loopback address (127.0.0.11, .12, ...) so pages show a different
//! "server IP" per instance, as in the classic demo.

use std::fmt::Write;
use std::net::{Ipv4Addr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use crate::spec::{Cache, Comparison, Database, Sessions, StackSpec, Storage};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    /// What users browse to: the load balancer, or the one instance.
    pub entry: SocketAddrV4,
    pub database: Option<SocketAddrV4>,
    pub memcached: Option<SocketAddrV4>,
    pub redis: Option<SocketAddrV4>,
    pub s3: Option<SocketAddrV4>,
    /// The autoscaler's status endpoint (level 3 and up).
    pub autoscaler: Option<SocketAddrV4>,
    /// The fleet view (`/fleet`), part of every local stack. None in an
    /// assignment written before it was.
    #[serde(default)]
    pub fleet: Option<SocketAddrV4>,
    /// Addresses for instances 1..=max of the fleet.
    pub instances: Vec<SocketAddrV4>,
}

const LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

impl Addresses {
    pub fn for_spec(spec: &StackSpec, entry_port: u16) -> Self {
        let at = |offset: u16| SocketAddrV4::new(LOOPBACK, entry_port.wrapping_add(offset));
        let instances = if spec.load_balancer.is_none() {
            vec![at(0)]
        } else {
            (0..spec.fleet.max)
                .map(|i| {
                    SocketAddrV4::new(
                        Ipv4Addr::new(127, 0, 0, 11 + i as u8),
                        entry_port.wrapping_add(1),
                    )
                })
                .collect()
        };
        Self {
            entry: at(0),
            database: (spec.database == Database::Mariadb).then(|| at(10)),
            memcached: spec.needs_memcached().then(|| at(11)),
            redis: spec.needs_redis().then(|| at(12)),
            s3: (spec.storage == Storage::S3).then(|| at(13)),
            autoscaler: spec.scaling.is_some().then(|| at(14)),
            fleet: Some(at(15)),
            instances,
        }
    }
}

/// The human-readable plan of `spec`.
pub fn describe(spec: &StackSpec, addresses: &Addresses) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Level {}: {}", spec.level, summary(spec.level));
    let _ = writeln!(out, "  entry          http://{}", addresses.entry);
    if let Some(fleet) = addresses.fleet {
        let _ = writeln!(out, "  fleet view     http://{fleet}/fleet");
    }
    if let Some(lb) = &spec.load_balancer {
        let hc = &lb.health_check;
        let _ = writeln!(
            out,
            "  load balancer  haproxy on {}, round-robin, health check GET {} every {} ms (rise {}, fall {})",
            addresses.entry, hc.path, hc.interval_ms, hc.rise, hc.fall
        );
    }
    let database = match (spec.database, addresses.database) {
        (Database::Mariadb, Some(at)) => format!("MariaDB (private) on {at}"),
        _ => "SQLite file beside the instance".to_owned(),
    };
    let _ = writeln!(out, "  database       {database}");
    let storage = match spec.storage {
        Storage::Local => "each instance's own directory".to_owned(),
        Storage::Shared => "one shared directory (the NFS export)".to_owned(),
        Storage::S3 => format!(
            "S3-compatible server on {} (bucket \"photos\")",
            addresses.s3.map(|a| a.to_string()).unwrap_or_default()
        ),
    };
    let _ = writeln!(out, "  photo storage  {storage}");
    let _ = writeln!(
        out,
        "  sessions       {}",
        server_text(
            sessions_name(spec.sessions),
            addresses,
            spec.sessions == Sessions::Memcached,
            spec.sessions == Sessions::Redis
        )
    );
    let cache = match spec.cache {
        Cache::None => "none".to_owned(),
        Cache::Memcached => server_text("memcached", addresses, true, false),
        Cache::Redis => server_text("redis", addresses, false, true),
    };
    let _ = writeln!(out, "  feed cache     {cache}");
    let instances: Vec<String> = addresses
        .instances
        .iter()
        .take(spec.fleet.desired as usize)
        .map(|a| a.to_string())
        .collect();
    let _ = writeln!(
        out,
        "  fleet          {} instance(s) (min {}, max {}): {}",
        spec.fleet.desired,
        spec.fleet.min,
        spec.fleet.max,
        instances.join(", ")
    );
    match &spec.scaling {
        None => {
            let _ = writeln!(out, "  autoscaling    off");
        }
        Some(scaling) => {
            let _ = writeln!(
                out,
                "  autoscaling    cooldown {} s, health-check grace period {} s",
                scaling.cooldown_s, scaling.health_check_grace_period_s
            );
            for alarm in &scaling.alarms {
                let op = match alarm.comparison {
                    Comparison::GreaterThanThreshold => ">",
                    Comparison::LessThanThreshold => "<",
                };
                let _ = writeln!(
                    out,
                    "    alarm {:<13} {} {} {op} {} ms for {} x {} s -> {:+} instance",
                    alarm.name,
                    alarm.statistic,
                    alarm.metric,
                    alarm.threshold_ms,
                    alarm.evaluation_periods,
                    alarm.period_s,
                    alarm.adjustment
                );
            }
        }
    }
    warnings(spec, &mut out);
    out
}

/// What `infra up` would change in a stack that runs `before`.
pub fn describe_changes(before: &StackSpec, after: &StackSpec) -> String {
    let mut out = format!("Changes from the running level {} stack:\n", before.level);
    let mut changes = Vec::new();
    let servers = |spec: &StackSpec| {
        let mut names = Vec::new();
        if spec.load_balancer.is_some() {
            names.push("haproxy");
        }
        if spec.database == Database::Mariadb {
            names.push("mariadb");
        }
        if spec.needs_memcached() {
            names.push("memcached");
        }
        if spec.needs_redis() {
            names.push("redis");
        }
        if spec.storage == Storage::S3 {
            names.push("s3");
        }
        names
    };
    let (old, new) = (servers(before), servers(after));
    for name in new.iter().filter(|n| !old.contains(n)) {
        changes.push(format!("start {name}"));
    }
    for name in old.iter().filter(|n| !new.contains(n)) {
        changes.push(format!(
            "stop {name} (after the instances no longer use it)"
        ));
    }
    if before.database != after.database {
        changes.push(format!(
            "copy users and photo records from {} to {}",
            database_name(before.database),
            database_name(after.database)
        ));
    }
    if before.storage != after.storage {
        changes.push(format!(
            "copy photo files from {} to {}",
            storage_name(before.storage),
            storage_name(after.storage)
        ));
    }
    let reconfigured = before.database != after.database
        || before.storage != after.storage
        || before.sessions != after.sessions
        || before.cache != after.cache
        || before.load_balancer.is_some() != after.load_balancer.is_some();
    if reconfigured {
        changes.push("restart the instances one at a time with the new configuration".into());
    }
    if before.fleet.desired != after.fleet.desired {
        changes.push(format!(
            "change the fleet from {} to {} instance(s){}",
            before.fleet.desired,
            after.fleet.desired,
            if before.load_balancer.is_some() && after.load_balancer.is_some() {
                " through HAProxy's runtime API (no reload)"
            } else {
                ""
            }
        ));
    }
    if before.scaling != after.scaling {
        changes.push("change the autoscaling settings".into());
    }
    if changes.is_empty() {
        changes.push("nothing: it already runs as planned".into());
    }
    for change in changes {
        out.push_str(&format!("  - {change}\n"));
    }
    out
}

fn database_name(database: Database) -> &'static str {
    match database {
        Database::Sqlite => "SQLite",
        Database::Mariadb => "MariaDB",
    }
}

fn storage_name(storage: Storage) -> &'static str {
    match storage {
        Storage::Local => "the instance's own directory",
        Storage::Shared => "the shared directory",
        Storage::S3 => "the S3 bucket",
    }
}

fn summary(level: u8) -> &'static str {
    match level {
        0 => "one server does everything",
        1 => "a load balancer in front of 2 servers sharing the database, sessions and files",
        2 => "level 1, with photos in S3",
        3 => "level 2, with a fleet that scales itself on latency",
        _ => "level 3, with a feed cache between the web tier and the database",
    }
}

fn sessions_name(sessions: Sessions) -> &'static str {
    match sessions {
        Sessions::Memory => "memory (per instance)",
        Sessions::Cookie => "signed cookie",
        Sessions::Memcached => "memcached",
        Sessions::Redis => "redis",
    }
}

fn server_text(name: &str, addresses: &Addresses, memcached: bool, redis: bool) -> String {
    let at = if memcached {
        addresses.memcached
    } else if redis {
        addresses.redis
    } else {
        None
    };
    match at {
        Some(at) => format!("{name} (private) on {at}"),
        None => name.to_owned(),
    }
}

/// The overrides that break things on purpose say so in the plan, and so
/// does what the local stack relaxes.
fn warnings(spec: &StackSpec, out: &mut String) {
    if spec.target == crate::spec::Target::Local {
        out.push_str("  note: every client of a stack on this machine comes from 127.0.0.1, so the app's per-address abuse limits are lifted (per-account limits stay)\n");
    }
    if spec.load_balancer.is_none() {
        return;
    }
    if spec.sessions == Sessions::Memory {
        out.push_str("  note: memory sessions are per instance: expect to be logged out when the load balancer switches instances\n");
    }
    if spec.storage == Storage::Local {
        out.push_str("  note: local storage is per instance: a photo uploaded through one instance is missing on the others\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Overrides, Target};

    fn plan(level: u8, overrides: Overrides) -> (StackSpec, Addresses, String) {
        let spec = StackSpec::for_level(level, Target::Local, &overrides).unwrap();
        let addresses = Addresses::for_spec(&spec, spec.entry_port(&overrides));
        let text = describe(&spec, &addresses);
        (spec, addresses, text)
    }

    #[test]
    fn the_local_plan_says_the_per_address_limits_are_lifted() {
        let (_, _, text) = plan(1, Overrides::default());
        assert!(
            text.contains("per-address abuse limits are lifted"),
            "{text}"
        );
    }

    #[test]
    fn level_zero_is_one_instance_on_the_entry_port() {
        let (_, addresses, text) = plan(0, Overrides::default());
        assert_eq!(addresses.instances, vec!["127.0.0.1:8080".parse().unwrap()]);
        assert!(addresses.database.is_none());
        assert!(text.contains("SQLite"), "{text}");
    }

    #[test]
    fn instances_get_their_own_loopback_addresses() {
        let (_, addresses, text) = plan(
            1,
            Overrides {
                port: Some(9000),
                ..Default::default()
            },
        );
        assert_eq!(addresses.entry.to_string(), "127.0.0.1:9000");
        let instances: Vec<String> = addresses.instances.iter().map(|a| a.to_string()).collect();
        assert_eq!(instances, ["127.0.0.11:9001", "127.0.0.12:9001"]);
        assert_eq!(addresses.database.unwrap().to_string(), "127.0.0.1:9010");
        assert_eq!(addresses.memcached.unwrap().to_string(), "127.0.0.1:9011");
        assert!(text.contains("health check GET /healthz"), "{text}");
    }

    #[test]
    fn level_three_shows_its_alarms() {
        let (_, addresses, text) = plan(3, Overrides::default());
        assert_eq!(addresses.instances.len(), 6, "room for the fleet's maximum");
        assert!(
            text.contains("Average TargetResponseTime > 1000 ms for 1 x 60 s -> +1 instance"),
            "{text}"
        );
        assert!(text.contains("< 500 ms"), "{text}");
        assert!(text.contains("cooldown 300 s"), "{text}");
    }

    #[test]
    fn a_level_change_lists_what_starts_stops_and_moves() {
        let (one, _, _) = plan(1, Overrides::default());
        let (two, _, _) = plan(2, Overrides::default());
        let text = describe_changes(&one, &two);
        assert!(text.contains("start s3"), "{text}");
        assert!(
            text.contains("copy photo files from the shared directory to the S3 bucket"),
            "{text}"
        );
        assert!(
            text.contains("restart the instances one at a time"),
            "{text}"
        );
        let (zero, _, _) = plan(0, Overrides::default());
        let back = describe_changes(&one, &zero);
        assert!(back.contains("stop haproxy"), "{back}");
        assert!(back.contains("from MariaDB to SQLite"), "{back}");
        assert!(describe_changes(&two, &two).contains("nothing"));
    }

    #[test]
    fn deliberate_failures_are_pointed_out() {
        let o = Overrides {
            sessions: Some(Sessions::Memory),
            storage: Some(Storage::Local),
            ..Default::default()
        };
        let (_, _, text) = plan(1, o);
        assert!(text.contains("logged out"), "{text}");
        assert!(text.contains("missing on the others"), "{text}");
    }
}
