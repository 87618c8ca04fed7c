//! The script every instance runs at first boot (EC2 user data): install
//! photoscale, write the level's configuration, fetch the stack's secrets
//! from SSM (never part of the script), and start a systemd service.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{AwsOptions, Os, APP_PORT, DIRECT_PORT};
use crate::app_config::{
    cache_backend, sessions_backend, AppConfigFile, BackupSection, BucketSection, S3Section,
    ServerBackedSection, StorageSection,
};
use crate::spec::{Cache, Database, Sessions, StackSpec, Storage};

/// Where photos live at level 1 (an NFS mount when --nfs is given).
pub const SHARED_PHOTOS_DIR: &str = "/srv/photoscale/photos";
const DATA_DIR: &str = "/var/lib/photoscale";

/// What decides an instance's configuration; its fingerprint tags the
/// instances, so a change is seen and they are replaced.
#[derive(Debug, Clone, Serialize)]
pub struct Intent {
    pub stack: String,
    pub port: u16,
    pub database: bool,
    pub storage: Storage,
    pub sessions: Sessions,
    pub cache: Cache,
    pub cache_engine: Option<&'static str>,
    pub bucket: Option<String>,
    pub nfs: Option<String>,
    pub https: bool,
    /// Where the program comes from is not part of the fingerprint: its
    /// SHA-256 is (a new URL for the same build replaces nothing).
    #[serde(skip)]
    pub app_url: Option<String>,
    /// The program's (bucket, key) in the artifacts bucket, when `up`
    /// delivers it.
    #[serde(skip)]
    pub app_object: Option<(String, String)>,
    pub app_sha256: Option<String>,
    pub ami: Option<String>,
    pub os: Os,
    pub instance_type: String,
    /// The instances' profile: a renamed profile (regional names) rolls
    /// the fleet onto it before the old one is removed.
    pub instance_profile: String,
    /// Scheduled backups (`--backup-every`), in seconds: the instances need
    /// the database's dump tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_every_s: Option<u64>,
    /// Levels 0 and 1: backups go to the stack's artifacts bucket (there is
    /// no photo bucket). Not part of the fingerprint: the bucket's name
    /// follows from the stack, account and region.
    #[serde(skip)]
    pub backup_bucket: Option<String>,
}

impl Intent {
    pub fn new(spec: &StackSpec, options: &AwsOptions, region: &str, bucket: Option<&str>) -> Self {
        Self {
            stack: options.stack.to_string(),
            port: if spec.load_balancer.is_some() {
                APP_PORT
            } else {
                DIRECT_PORT
            },
            database: spec.database == Database::Mariadb,
            storage: spec.storage,
            sessions: spec.sessions,
            cache: spec.cache,
            cache_engine: cache_engine(spec),
            bucket: bucket.map(str::to_owned),
            nfs: (spec.storage == Storage::Shared)
                .then(|| options.nfs.clone())
                .flatten(),
            https: spec.load_balancer.is_some() && options.certificate_arn.is_some(),
            app_url: options.app.url.clone(),
            app_object: None,
            app_sha256: options.app.sha256.clone(),
            ami: options.ami.clone(),
            os: options.os,
            instance_type: options.instance_type.clone(),
            instance_profile: options.stack.role(region),
            backup_every_s: spec.backup_every_s,
            backup_bucket: None,
        }
    }

    /// A short hash of everything above.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("the intent serialises");
        hex::encode(&Sha256::digest(json)[..8])
    }
}

/// Addresses known once the stack's services exist.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// `host:port` of the RDS instance.
    pub database: Option<String>,
    /// `host:port` of the ElastiCache cluster.
    pub cache: Option<String>,
}

/// Everything the script needs.
pub struct Script<'a> {
    pub intent: &'a Intent,
    pub level: u8,
    pub region: &'a str,
    pub secrets_parameter: &'a str,
    pub endpoints: &'a Endpoints,
}

impl Script<'_> {
    /// The bash script.
    pub fn render(&self) -> String {
        let i = self.intent;
        let mut s = String::new();
        s.push_str(&format!(
            "#!/bin/bash\n# photoscale level {} instance, written by `photoscale infra up --target aws`.\n",
            self.level
        ));
        s.push_str("set -euo pipefail\n");
        s.push_str(OUTPUT_AND_RETRY);
        s.push_str(&format!("REGION={}\n", quote(self.region)));
        s.push_str(&format!(
            "SECRETS_PARAMETER={}\n",
            quote(self.secrets_parameter)
        ));
        s.push_str(&format!(
            "APP_URL={}\n",
            quote(i.app_url.as_deref().unwrap_or(""))
        ));
        let (bucket, key) = i.app_object.clone().unwrap_or_default();
        s.push_str(&format!(
            "APP_BUCKET={}\nAPP_KEY={}\n",
            quote(&bucket),
            quote(&key)
        ));
        s.push_str(&format!(
            "APP_SHA256={}\n\n",
            quote(i.app_sha256.as_deref().unwrap_or(""))
        ));
        s.push_str(INSTALL_TOOLS);
        if i.backup_every_s.is_some() {
            s.push_str(INSTALL_DUMP_TOOL);
        }
        if let Some(export) = &i.nfs {
            s.push_str(&mount_nfs(export));
        }
        s.push_str(INSTALL_APP);
        s.push_str(&heredoc(
            "/etc/photoscale/photoscale.toml",
            &self.app_config(),
        ));
        s.push_str(&self.secrets_env());
        s.push_str(&heredoc(
            "/etc/systemd/system/photoscale.service",
            &self.unit(),
        ));
        s.push_str("systemctl daemon-reload\nsystemctl enable --now photoscale.service\n\n");
        s.push_str(&wait_healthy(i.port));
        s
    }

    /// The configuration file (no secrets: those come from the environment).
    pub fn app_config(&self) -> String {
        let i = self.intent;
        let server = |wanted: bool, db: u8| match (wanted, i.cache_engine, &self.endpoints.cache) {
            (true, Some("redis"), Some(at)) => Some(format!("redis://{at}/{db}")),
            (true, Some(_), Some(at)) => Some(format!("memcache://{at}")),
            _ => None,
        };
        let bucket_in_region = |bucket: &str| BucketSection {
            bucket: bucket.to_owned(),
            region: self.region.to_owned(),
        };
        let backup = (i.backup_every_s.is_some() || i.backup_bucket.is_some()).then(|| {
            BackupSection {
                // One instance at a time (a database lock).
                every: i.backup_every_s.map(|every| format!("{every}s")),
                // Levels 0 and 1: under backups/ in the artifacts bucket (at
                // level 2+, under backups/ in the photo bucket).
                s3: i.backup_bucket.as_deref().map(bucket_in_region),
            }
        });
        let file = AppConfigFile {
            bind: Some(format!("0.0.0.0:{}", i.port)),
            data_dir: Some(DATA_DIR.to_owned()),
            backup,
            cache: ServerBackedSection {
                backend: cache_backend(i.cache),
                url: server(i.cache != Cache::None, 1),
                ..Default::default()
            },
            sessions: ServerBackedSection {
                backend: sessions_backend(i.sessions),
                // Without HTTPS at the load balancer a Secure cookie never
                // comes back.
                secure_cookie: Some(i.https),
                url: server(
                    matches!(i.sessions, Sessions::Memcached | Sessions::Redis),
                    0,
                ),
                ..Default::default()
            },
            storage: match i.storage {
                Storage::Local => StorageSection {
                    backend: "local",
                    ..Default::default()
                },
                Storage::Shared => StorageSection {
                    backend: "shared",
                    path: Some(SHARED_PHOTOS_DIR.to_owned()),
                    s3: None,
                },
                Storage::S3 => StorageSection {
                    backend: "s3",
                    path: None,
                    s3: Some(S3Section {
                        bucket: i.bucket.clone().unwrap_or_default(),
                        region: self.region.to_owned(),
                        ..Default::default()
                    }),
                },
            },
            ..Default::default()
        };
        file.to_toml(
            "Written by `photoscale infra up --target aws` (secrets come from secrets.env).",
        )
    }

    /// Secrets go from SSM into a root-only environment file for systemd.
    fn secrets_env(&self) -> String {
        let mut s = String::from(FETCH_SECRETS);
        s.push_str("umask 077\n{\n");
        s.push_str("  echo \"PHOTOSCALE_INSTANCE__ID=$instance_id\"\n");
        s.push_str("  echo \"PHOTOSCALE_ADMIN__TOKEN=$(secret ADMIN_TOKEN)\"\n");
        s.push_str("  echo \"PHOTOSCALE_SESSIONS__KEY=$(secret SESSION_KEY)\"\n");
        if let (true, Some(at)) = (self.intent.database, &self.endpoints.database) {
            s.push_str(&format!(
                "  echo \"PHOTOSCALE_DATABASE__URL=mysql://photoscale:$(secret DB_PASSWORD)@{at}/photoscale\"\n"
            ));
        }
        s.push_str("} >/etc/photoscale/secrets.env\numask 022\n\n");
        s
    }

    fn unit(&self) -> String {
        let mut u = format!(
            "[Unit]\nDescription=photoscale (level {})\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nUser=photoscale\nGroup=photoscale\n",
            self.level
        );
        u.push_str("EnvironmentFile=/etc/photoscale/secrets.env\n");
        u.push_str(
            "ExecStart=/usr/local/bin/photoscale --config /etc/photoscale/photoscale.toml serve\n",
        );
        u.push_str("Restart=always\nRestartSec=2\nNoNewPrivileges=true\nProtectSystem=strict\nProtectHome=true\n");
        u.push_str(&format!("ReadWritePaths={DATA_DIR} /srv/photoscale\n"));
        if self.intent.port < 1024 {
            // Level 0 serves port 80 itself, without running as root.
            u.push_str("AmbientCapabilities=CAP_NET_BIND_SERVICE\n");
        }
        u.push_str("\n[Install]\nWantedBy=multi-user.target\n");
        u
    }
}

/// Output to a log file and the serial console (EC2's "Get system log"
/// shows a boot that failed without a way in), and `retry` for every step
/// that goes over the network: package mirrors, the download, SSM (whose
/// answer can lag a role made seconds ago) and the metadata service.
const OUTPUT_AND_RETRY: &str = r#"exec > >(tee -a /var/log/photoscale-bootstrap.log >/dev/console) 2>&1
echo "photoscale bootstrap starts"
retry() {
  local attempt=1
  until "$@"; do
    if [ "$attempt" -ge 8 ]; then
      echo "photoscale bootstrap: giving up after $attempt attempts: $*" >&2
      return 1
    fi
    sleep $((attempt * 5))
    attempt=$((attempt + 1))
  done
}

"#;

/// After the service starts, the boot is done only when `/healthz` answers.
fn wait_healthy(port: u16) -> String {
    format!(
        r#"for attempt in $(seq 1 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:{port}/healthz"; then
    echo "photoscale bootstrap: healthy after $attempt check(s)"
    exit 0
  fi
  sleep 2
done
echo "photoscale bootstrap: the app did not answer /healthz within 2 minutes" >&2
journalctl -u photoscale.service --no-pager -n 50 || true
exit 1
"#
    )
}

const INSTALL_TOOLS: &str = r#"# The AWS CLI reads the secrets; Amazon Linux has it, Ubuntu gets it.
if ! command -v aws >/dev/null 2>&1; then
  if command -v snap >/dev/null 2>&1; then
    retry snap install aws-cli --classic
  elif command -v dnf >/dev/null 2>&1; then
    retry dnf install -y awscli
  else
    retry apt-get update && retry apt-get install -y awscli
  fi
fi

"#;

const INSTALL_APP: &str = r#"id photoscale >/dev/null 2>&1 || useradd --system --home-dir /var/lib/photoscale --shell /usr/sbin/nologin photoscale
install -d -o photoscale -g photoscale -m 0750 /var/lib/photoscale
install -d -o photoscale -g photoscale -m 0750 /srv/photoscale /srv/photoscale/photos
install -d -m 0755 /etc/photoscale

if [ -n "$APP_BUCKET" ]; then
  # The stack's artifacts bucket, read with the instance's role.
  retry aws s3 cp --only-show-errors --region "$REGION" "s3://$APP_BUCKET/$APP_KEY" /usr/local/bin/photoscale.download
else
  retry curl -fsSL --retry 5 -o /usr/local/bin/photoscale.download "$APP_URL"
fi
echo "$APP_SHA256  /usr/local/bin/photoscale.download" | sha256sum -c -
install -m 0755 /usr/local/bin/photoscale.download /usr/local/bin/photoscale
rm -f /usr/local/bin/photoscale.download

"#;

const FETCH_SECRETS: &str = r#"secrets=$(retry aws ssm get-parameter --region "$REGION" --name "$SECRETS_PARAMETER" --with-decryption --query Parameter.Value --output text)
secret() { printf '%s\n' "$secrets" | sed -n "s/^$1=//p"; }
imds_token=$(retry curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
instance_id=$(retry curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/instance-id)
"#;

fn mount_nfs(export: &str) -> String {
    format!(
        "# Photos on the shared NFS export (level 1).\nNFS_EXPORT={}\ncommand -v mount.nfs4 >/dev/null 2>&1 || (retry dnf install -y nfs-utils || (retry apt-get update && retry apt-get install -y nfs-common))\ninstall -d {SHARED_PHOTOS_DIR}\ngrep -q \" {SHARED_PHOTOS_DIR} \" /etc/fstab || echo \"$NFS_EXPORT {SHARED_PHOTOS_DIR} nfs4 nfsvers=4.1,_netdev 0 0\" >>/etc/fstab\nmountpoint -q {SHARED_PHOTOS_DIR} || retry mount {SHARED_PHOTOS_DIR}\n\n",
        quote(export)
    )
}

/// `text` written to `path` by a quoted here-document (no expansion).
fn heredoc(path: &str, text: &str) -> String {
    let mut end = String::from("PHOTOSCALE_EOF");
    while text.lines().any(|l| l == end) {
        end.push('_');
    }
    format!("cat >{path} <<'{end}'\n{text}{end}\n\n")
}

/// A single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `mariadb-dump` for scheduled backups of the RDS database.
const INSTALL_DUMP_TOOL: &str = "# The database's dump tool, for scheduled backups.\ncommand -v mariadb-dump >/dev/null 2>&1 || command -v mysqldump >/dev/null 2>&1 || retry dnf install -y mariadb105 || (retry apt-get update && retry apt-get install -y mariadb-client)\n\n";

/// One ElastiCache cluster serves sessions and the feed cache.
pub fn cache_engine(spec: &StackSpec) -> Option<&'static str> {
    match (spec.sessions, spec.cache) {
        (Sessions::Redis, _) | (_, Cache::Redis) => Some("redis"),
        (Sessions::Memcached, _) | (_, Cache::Memcached) => Some("memcached"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{Connection, StackName};
    use crate::spec::{Overrides, Target};

    fn script_for(level: u8, options: &AwsOptions) -> String {
        let spec = StackSpec::for_level(level, Target::Aws, &Overrides::default()).unwrap();
        let bucket = (spec.storage == Storage::S3).then_some("photoscale-demo-123-eu-west-1");
        let intent = Intent::new(&spec, options, "eu-west-1", bucket);
        let endpoints = Endpoints {
            database: Some("db.example:3306".into()),
            cache: Some("cache.example:11211".into()),
        };
        Script {
            intent: &intent,
            level,
            region: "eu-west-1",
            secrets_parameter: "/photoscale/demo/secrets",
            endpoints: &endpoints,
        }
        .render()
    }

    fn options() -> AwsOptions {
        let mut options = AwsOptions::new(
            StackName::parse("demo").unwrap(),
            Connection::default(),
            "/tmp".into(),
        );
        options.app.url = Some("https://example.com/photo's/photoscale".into());
        options.nfs = Some("fs-1.efs.eu-west-1.amazonaws.com:/".into());
        options
    }

    /// `bash -n` parses the script without running it.
    fn assert_bash_accepts(script: &str, level: u8) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("user-data-{level}.sh"));
        std::fs::write(&path, script).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "level {level}: bash -n failed: {}\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn every_level_renders_a_script_bash_accepts() {
        for level in 0..=crate::spec::MAX_LEVEL {
            let script = script_for(level, &options());
            assert_bash_accepts(&script, level);
            assert!(script.contains("systemctl enable --now photoscale.service"));
            assert!(
                script.contains("'https://example.com/photo'\\''s/photoscale'"),
                "quoted URL"
            );
            assert!(
                !script.contains("DB_PASSWORD="),
                "no secret value is in user data"
            );
        }
    }

    #[test]
    fn scheduled_backups_configure_the_app_and_install_the_dump_tool() {
        let overrides = Overrides {
            backup_every_s: Some(600),
            ..Default::default()
        };
        let spec = StackSpec::for_level(2, Target::Aws, &overrides).unwrap();
        let intent = Intent::new(&spec, &options(), "eu-west-1", Some("bucket"));
        let plain = StackSpec::for_level(2, Target::Aws, &Overrides::default()).unwrap();
        let without = Intent::new(&plain, &options(), "eu-west-1", Some("bucket"));
        assert_ne!(
            intent.fingerprint(),
            without.fingerprint(),
            "the fleet rolls onto it"
        );
        let endpoints = Endpoints::default();
        let script = Script {
            intent: &intent,
            level: 2,
            region: "eu-west-1",
            secrets_parameter: "/photoscale/demo/secrets",
            endpoints: &endpoints,
        };
        assert!(script
            .app_config()
            .contains("\n[backup]\nevery = \"600s\"\n"));
        let text = script.render();
        assert!(text.contains("retry dnf install -y mariadb105"), "{text}");
        assert_bash_accepts(&text, 2);
        assert!(!script_for(2, &options()).contains("mariadb105"));
        // Levels 0 and 1: into the artifacts bucket.
        let spec = StackSpec::for_level(1, Target::Aws, &overrides).unwrap();
        let mut intent = Intent::new(&spec, &options(), "eu-west-1", None);
        intent.backup_bucket = Some("photoscale-demo-artifacts".into());
        let script = Script {
            intent: &intent,
            level: 1,
            region: "eu-west-1",
            secrets_parameter: "/photoscale/demo/secrets",
            endpoints: &endpoints,
        };
        let config = script.app_config();
        assert!(
            config.contains("[backup]\nevery = \"600s\"\n\n[backup.s3]\nbucket = \"photoscale-demo-artifacts\"\nregion = \"eu-west-1\"\n"),
            "{config}"
        );
        let parsed: toml::Value = toml::from_str(&config).expect("valid TOML");
        assert_eq!(
            parsed["backup"]["s3"]["bucket"].as_str(),
            Some("photoscale-demo-artifacts")
        );
    }

    #[test]
    fn each_level_configures_its_backends() {
        let at0 = script_for(0, &options());
        assert!(at0.contains("bind = \"0.0.0.0:80\""));
        assert!(at0.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE"));
        assert!(!at0.contains("DATABASE__URL"), "level 0 keeps SQLite");
        let at1 = script_for(1, &options());
        assert!(at1.contains("bind = \"0.0.0.0:8080\""));
        assert!(at1.contains("mysql://photoscale:$(secret DB_PASSWORD)@db.example:3306/photoscale"));
        assert!(at1.contains("url = \"memcache://cache.example:11211\""));
        assert!(at1.contains(
            "mount {SHARED_PHOTOS_DIR}"
                .replace("{SHARED_PHOTOS_DIR}", SHARED_PHOTOS_DIR)
                .as_str()
        ));
        assert!(
            at1.contains("retry apt-get update && retry apt-get install -y nfs-common"),
            "a fresh Ubuntu has no package lists: update before installing"
        );
        let at2 = script_for(2, &options());
        assert!(at2.contains("backend = \"s3\""));
        assert!(at2.contains("bucket = \"photoscale-demo-123-eu-west-1\""));
        assert!(!at2.contains("NFS_EXPORT"), "no NFS once photos are in S3");
        let at4 = script_for(4, &options());
        assert!(at4.contains(
            "[cache]\nbackend = \"memcached\"\nurl = \"memcache://cache.example:11211\""
        ));
    }

    #[test]
    fn every_network_step_retries_and_the_boot_ends_healthy() {
        let script = script_for(1, &options());
        for step in [
            "retry curl -fsSL --retry 5 -o /usr/local/bin/photoscale.download",
            "retry aws ssm get-parameter",
            "retry curl -fsS -X PUT http://169.254.169.254/latest/api/token",
            "retry curl -fsS -H \"X-aws-ec2-metadata-token",
            "retry apt-get install -y nfs-common",
            "retry mount /srv/photoscale/photos",
        ] {
            assert!(script.contains(step), "{step:?} is not retried:\n{script}");
        }
        assert!(
            script.contains(">/dev/console"),
            "output reaches the serial console"
        );
        let started = script
            .find("systemctl enable --now photoscale.service")
            .unwrap();
        let healthy = script
            .find("curl -fsS -o /dev/null \"http://127.0.0.1:8080/healthz\"")
            .unwrap();
        assert!(healthy > started, "/healthz is polled after the start");
        assert!(
            script.trim_end().ends_with("exit 1"),
            "no answer: the boot fails"
        );
    }

    #[test]
    fn the_fingerprint_follows_the_configuration() {
        let spec = |level| StackSpec::for_level(level, Target::Aws, &Overrides::default()).unwrap();
        let options = options();
        let at = |level| Intent::new(&spec(level), &options, "eu-west-1", None).fingerprint();
        assert_eq!(at(1), at(1));
        assert_ne!(at(0), at(1));
        assert_eq!(
            at(3),
            Intent::new(&spec(3), &options, "eu-west-1", None).fingerprint()
        );
        assert_ne!(
            at(3),
            Intent::new(&spec(3), &options, "us-east-1", None).fingerprint(),
            "each region's instances use that region's profile"
        );
        assert_ne!(at(3), at(4), "the feed cache changes the configuration");
    }
}
