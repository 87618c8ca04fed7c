//! The app instances of a local stack: one shared configuration file (the
//! level's database, storage, sessions and cache, with the stack's secrets)
//! and one `photoscale serve` process per instance, each on its own loopback
//! address with its own data directory.

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

use super::process::Launch;
use super::services::{database_url, BUCKET, S3_ACCESS_KEY};
use super::state::{Secrets, StateDir};
use crate::app_config::{
    cache_backend, sessions_backend, AdminSection, AppConfigFile, BackupSection, DatabaseSection,
    LimitsSection, S3Section, ServerBackedSection, ServerSection, StorageSection,
};
use crate::plan::Addresses;
use crate::spec::{Cache, Database, Sessions, StackSpec, Storage};

/// The id of the `n`th instance (1-based): i-1, i-2, ...
pub fn instance_id(n: u32) -> String {
    format!("i-{n}")
}

/// The instance ids `spec` wants running: the running ones that have an
/// address (lowest first, so the ids a deploy moved instances to are kept),
/// then the lowest free ones, up to the desired capacity.
pub fn wanted_ids<'a>(
    spec: &StackSpec,
    running: impl IntoIterator<Item = &'a String>,
) -> Vec<String> {
    let slots = if spec.load_balancer.is_none() {
        1
    } else {
        spec.fleet.max
    };
    let desired = spec.fleet.desired.min(slots) as usize;
    let mut numbers: Vec<u32> = running
        .into_iter()
        .filter_map(|id| id.strip_prefix("i-")?.parse().ok())
        .filter(|n| (1..=slots).contains(n))
        .collect();
    numbers.sort_unstable();
    numbers.truncate(desired);
    for n in 1..=slots {
        if numbers.len() >= desired {
            break;
        }
        if !numbers.contains(&n) {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    numbers.into_iter().map(instance_id).collect()
}

/// Where instance `id` listens.
pub fn address_of(id: &str, addresses: &Addresses) -> Option<SocketAddrV4> {
    let n: usize = id.strip_prefix("i-")?.parse().ok()?;
    addresses.instances.get(n.checked_sub(1)?).copied()
}

/// The directory shared by every instance when storage is `shared`.
pub fn shared_photos_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("shared-photos")
}

/// Instance `id`'s own data directory (SQLite at level 0, `local` photos).
pub fn data_dir(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join("instances").join(id).join("data")
}

/// The configuration every instance of the stack reads.
pub fn app_config(
    spec: &StackSpec,
    addresses: &Addresses,
    state_dir: &Path,
    secrets: &Secrets,
) -> String {
    let database = match (spec.database, addresses.database) {
        (Database::Mariadb, Some(at)) => Some(DatabaseSection {
            url: database_url(at, secrets),
        }),
        _ => None,
    };
    let file = AppConfigFile {
        admin: Some(AdminSection {
            token: secrets.admin_token.clone(),
        }),
        // Under backups/ in the shared directory or the bucket; one
        // instance at a time (a database lock).
        backup: spec.backup_every_s.map(|every| BackupSection {
            every: Some(format!("{every}s")),
            s3: None,
        }),
        cache: ServerBackedSection {
            backend: cache_backend(spec.cache),
            url: server_url(
                spec.cache == Cache::Redis,
                spec.cache == Cache::Memcached,
                addresses,
                1,
            ),
            ..Default::default()
        },
        database,
        // Every client of a stack on this machine (the browser, the load
        // test, the benchmark) comes from 127.0.0.1, so limits per address
        // would count them all as one: they are lifted here. Limits per
        // account stay.
        limits: Some(LimitsSection {
            login_failures_per_address: 1_000_000,
            signups_per_address: 1_000_000,
        }),
        // HAProxy reaches the instances from 127.0.0.1 and names the client
        // in X-Forwarded-For; the app believes that header from it alone.
        server: Some(ServerSection {
            trusted_proxies: vec!["127.0.0.1/32".into()],
        }),
        sessions: ServerBackedSection {
            backend: sessions_backend(spec.sessions),
            // Shared by every instance, so a cookie signed by one is valid
            // on all.
            key: Some(secrets.session_key.clone()),
            // The stack serves plain HTTP on loopback; a Secure cookie would
            // never come back over it. Behind HTTPS, leave the default.
            secure_cookie: Some(false),
            url: server_url(
                spec.sessions == Sessions::Redis,
                spec.sessions == Sessions::Memcached,
                addresses,
                0,
            ),
        },
        storage: storage_section(spec.storage, addresses, state_dir, secrets),
        ..Default::default()
    };
    // No level number in here: a level change that does not change the
    // instances' settings must not restart them.
    file.to_toml("Written by `photoscale infra up`; changes are overwritten.")
}

fn storage_section(
    storage: Storage,
    addresses: &Addresses,
    state_dir: &Path,
    secrets: &Secrets,
) -> StorageSection {
    match storage {
        Storage::Local => StorageSection {
            backend: "local",
            ..Default::default()
        },
        Storage::Shared => StorageSection {
            backend: "shared",
            path: Some(shared_photos_dir(state_dir).display().to_string()),
            s3: None,
        },
        Storage::S3 => StorageSection {
            backend: "s3",
            path: None,
            s3: Some(S3Section {
                // The stack's S3 server checks every signature against its
                // own key pair (the file is the owner's alone, as the other
                // secrets).
                access_key_id: Some(S3_ACCESS_KEY.into()),
                bucket: BUCKET.into(),
                endpoint: addresses.s3.map(|at| format!("http://{at}")),
                path_style: Some(true),
                region: "us-east-1".into(),
                secret_access_key: Some(secrets.s3_secret_key.clone()),
            }),
        },
    }
}

/// The URL of the stack's Redis or memcached for a backend on it;
/// sessions and cache use different Redis databases.
fn server_url(redis: bool, memcached: bool, addresses: &Addresses, redis_db: u8) -> Option<String> {
    if redis {
        addresses.redis.map(|a| format!("redis://{a}/{redis_db}"))
    } else if memcached {
        addresses.memcached.map(|a| format!("memcache://{a}"))
    } else {
        None
    }
}

/// How to start instance `id` on `address`.
pub fn launch(
    app_program: &Path,
    state_dir: &StateDir,
    config: &Path,
    id: &str,
    address: SocketAddrV4,
) -> Launch {
    let dir = state_dir.dir(&format!("instances/{id}"));
    let mut launch = Launch::new(app_program.to_owned(), dir.join(format!("{id}.log")))
        .arg("--config")
        .arg(config.display().to_string())
        .arg("serve")
        .arg(format!("--bind={address}"))
        .arg(format!("--instance-id={id}"))
        .arg(format!(
            "--data-dir={}",
            data_dir(state_dir.root(), id).display()
        ));
    // No instance role to look for on this machine.
    launch.env = vec![("AWS_EC2_METADATA_DISABLED".into(), "true".into())];
    launch
}

/// The environment of `data copy` between two levels: the S3 key pair also
/// through the standard AWS chain, for a configuration written before the
/// key pair went into the file.
pub fn app_env(secrets: &Secrets) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "photoscale".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", secrets.s3_secret_key.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Overrides, Target};

    fn secrets() -> Secrets {
        Secrets {
            database_password: "dbpw".into(),
            session_key: "k".repeat(64),
            admin_token: "tok".into(),
            s3_secret_key: "s3".into(),
        }
    }

    fn config_for(level: u8, overrides: Overrides) -> toml::Table {
        let spec = StackSpec::for_level(level, Target::Local, &overrides).unwrap();
        let addresses = Addresses::for_spec(&spec, spec.entry_port(&overrides));
        let text = app_config(&spec, &addresses, Path::new("/st"), &secrets());
        text.parse().unwrap()
    }

    #[test]
    fn level_one_shares_database_sessions_and_files() {
        let c = config_for(1, Overrides::default());
        assert_eq!(
            c["database"]["url"].as_str(),
            Some("mysql://photoscale:dbpw@127.0.0.1:8090/photoscale")
        );
        assert_eq!(c["storage"]["backend"].as_str(), Some("shared"));
        assert_eq!(c["storage"]["path"].as_str(), Some("/st/shared-photos"));
        assert_eq!(c["sessions"]["backend"].as_str(), Some("memcached"));
        assert_eq!(
            c["sessions"]["url"].as_str(),
            Some("memcache://127.0.0.1:8091")
        );
        assert_eq!(c["cache"]["backend"].as_str(), Some("none"));
        assert_eq!(c["admin"]["token"].as_str(), Some("tok"));
        assert_eq!(
            c["server"]["trusted_proxies"][0].as_str(),
            Some("127.0.0.1/32"),
            "HAProxy's X-Forwarded-For is believed"
        );
        assert!(
            c["limits"]["signups_per_address"].as_integer() > Some(1000),
            "one address for every local client: per-address limits lifted"
        );
        assert!(c["limits"].get("login_failures_per_account").is_none());
    }

    #[test]
    fn level_zero_keeps_the_embedded_default() {
        let c = config_for(0, Overrides::default());
        assert!(c.get("database").is_none());
        assert_eq!(c["storage"]["backend"].as_str(), Some("local"));
        assert_eq!(c["sessions"]["backend"].as_str(), Some("cookie"));
    }

    #[test]
    fn level_four_caches_the_feed_and_keeps_photos_in_s3() {
        let c = config_for(
            4,
            Overrides {
                cache: Some(Cache::Redis),
                ..Default::default()
            },
        );
        assert_eq!(
            c["storage"]["s3"]["endpoint"].as_str(),
            Some("http://127.0.0.1:8093")
        );
        assert_eq!(c["cache"]["url"].as_str(), Some("redis://127.0.0.1:8092/1"));
        assert_eq!(
            c["storage"]["s3"]["access_key_id"].as_str(),
            Some("photoscale")
        );
        assert_eq!(
            c["storage"]["s3"]["secret_access_key"].as_str(),
            Some("s3"),
            "the stack's own key pair, which its S3 server checks"
        );
    }

    #[test]
    fn instance_ids_map_to_addresses() {
        let spec = StackSpec::for_level(1, Target::Local, &Overrides::default()).unwrap();
        let addresses = Addresses::for_spec(&spec, 8080);
        assert_eq!(wanted_ids(&spec, &[]), ["i-1", "i-2"]);
        // After a deploy moved i-1 to i-3 (a fleet of up to 4): kept.
        let mut scaled = spec.clone();
        scaled.fleet.max = 4;
        let running = ["i-2".to_owned(), "i-3".to_owned()];
        assert_eq!(wanted_ids(&scaled, &running), ["i-2", "i-3"]);
        let beyond = ["i-9".to_owned()];
        assert_eq!(wanted_ids(&scaled, &beyond), ["i-1", "i-2"]);
        assert_eq!(
            address_of("i-2", &addresses).unwrap().to_string(),
            "127.0.0.12:8081"
        );
        assert!(address_of("i-9", &addresses).is_none());
        assert!(address_of("i-0", &addresses).is_none());
    }
}
