//! What a level wants in AWS, and the changes that take what exists there.
//! Pure: `up` acts on these changes, `infra plan --target aws` prints them.

use std::fmt;

use serde::Serialize;

use super::clients::Clients;
use super::iam::SECRETS_POLICY;
use super::inventory::Inventory;
use super::user_data::{cache_engine, Intent};
use super::AwsOptions;
use crate::spec::{StackSpec, Storage};

/// What the level wants, by resource.
#[derive(Debug, Clone, Serialize)]
pub struct Wanted {
    pub level: u8,
    /// Security groups by kind: lb, app, db, cache.
    pub security_groups: Vec<&'static str>,
    pub load_balancer: bool,
    pub https: bool,
    pub database: bool,
    /// `memcached` or `redis` when sessions or the feed cache need a server.
    pub cache_engine: Option<&'static str>,
    pub bucket: Option<String>,
    /// Inline policies of the instances' role.
    pub role_policies: Vec<&'static str>,
    /// Session Manager's managed policy attached to it (`--ssm-access`).
    pub ssm_access: bool,
    /// Instances outside an Auto Scaling group (levels 0 to 2).
    pub instances: u32,
    pub auto_scaling: bool,
    pub alarms: Vec<String>,
    /// A topic of our own for alarm notifications (--notify-email).
    pub topic: bool,
    /// The instances' configuration fingerprint.
    pub config: String,
}

/// The policy letting instances use the photo bucket's objects.
pub const PHOTOS_POLICY: &str = "photoscale-photos";

/// The resources `spec` wants for `options.stack`.
pub fn wanted(spec: &StackSpec, options: &AwsOptions, clients: &Clients) -> Wanted {
    let bucket = (spec.storage == Storage::S3)
        .then(|| options.stack.bucket(&clients.account, &clients.region));
    wanted_with_bucket(spec, options, &clients.region, bucket)
}

pub fn wanted_with_bucket(
    spec: &StackSpec,
    options: &AwsOptions,
    region: &str,
    bucket: Option<String>,
) -> Wanted {
    let load_balancer = spec.load_balancer.is_some();
    let database = spec.database == crate::spec::Database::Mariadb;
    let cache_engine = cache_engine(spec);
    let mut security_groups = vec!["app"];
    if load_balancer {
        security_groups.insert(0, "lb");
    }
    if database {
        security_groups.push("db");
    }
    if cache_engine.is_some() {
        security_groups.push("cache");
    }
    let mut role_policies = vec![SECRETS_POLICY];
    if bucket.is_some() {
        role_policies.push(PHOTOS_POLICY);
    } else {
        // Levels 0 and 1 keep backups in the artifacts bucket.
        role_policies.push(super::artifacts::BACKUPS_POLICY);
    }
    if options.app.url.is_none() {
        role_policies.push(super::artifacts::APP_POLICY);
    }
    let scaling = spec.scaling.as_ref();
    let intent = Intent::new(spec, options, region, bucket.as_deref());
    Wanted {
        level: spec.level,
        security_groups,
        load_balancer,
        https: load_balancer && options.certificate_arn.is_some(),
        database,
        cache_engine,
        bucket,
        role_policies,
        ssm_access: options.ssm_access,
        instances: if scaling.is_some() {
            0
        } else {
            spec.fleet.desired
        },
        auto_scaling: scaling.is_some(),
        alarms: scaling
            .map(|s| {
                s.alarms
                    .iter()
                    .map(|a| options.stack.alarm(&a.name))
                    .collect()
            })
            .unwrap_or_default(),
        topic: scaling.is_some() && options.notify_email.is_some(),
        config: intent.fingerprint(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "why", rename_all = "lowercase")]
pub enum Action {
    Create,
    Keep,
    Update(String),
    Replace(String),
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
}

impl Change {
    fn new(kind: &'static str, name: impl Into<String>, action: Action) -> Self {
        Self {
            kind,
            name: name.into(),
            action,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mark, verb, why) = match &self.action {
            Action::Create => ("+", "create", None),
            Action::Keep => ("=", "keep", None),
            Action::Update(why) => ("~", "update", Some(why)),
            Action::Replace(why) => ("±", "replace", Some(why)),
            Action::Delete => ("-", "delete", None),
        };
        write!(f, "  {mark} {verb:<8} {} {}", self.kind, self.name)?;
        if let Some(why) = why {
            write!(f, " ({why})")?;
        }
        Ok(())
    }
}

/// The changes that take `found` to `wanted`, in the order `up` makes them.
pub fn changes(wanted: &Wanted, found: &Inventory) -> Vec<Change> {
    let stack = &found.stack;
    let main = format!("photoscale-{stack}");
    let mut out = Vec::new();
    want(
        &mut out,
        "secrets",
        &format!("/photoscale/{stack}/secrets"),
        found.secrets_parameter.is_some(),
        true,
    );
    for kind in ["lb", "app", "db", "cache"] {
        let exists = found.security_groups.contains_key(kind);
        // A kept database keeps the group that lets the app in.
        let keep_for_data = kind == "db" && found.database.is_some();
        let wanted = wanted.security_groups.contains(&kind) || keep_for_data;
        want(
            &mut out,
            "security group",
            &format!("{main}-{kind}"),
            exists,
            wanted,
        );
    }
    let role = format!("{main}-app-{}", found.region);
    want(&mut out, "IAM role", &role, found.iam.role.is_some(), true);
    want(
        &mut out,
        "instance profile",
        &role,
        found.iam.instance_profile.is_some(),
        true,
    );
    if let Some(legacy) = &found.iam.legacy_role {
        out.push(Change::new(
            "IAM role",
            legacy,
            Action::Replace(format!("by {role}, once the instances use it")),
        ));
    }
    want(
        &mut out,
        "managed policy",
        super::iam::SSM_POLICY,
        found
            .iam
            .attached_policies
            .iter()
            .any(|p| p.ends_with(super::iam::SSM_POLICY)),
        wanted.ssm_access,
    );
    for policy in [
        SECRETS_POLICY,
        PHOTOS_POLICY,
        super::artifacts::APP_POLICY,
        super::artifacts::BACKUPS_POLICY,
    ] {
        let exists = found.iam.role_policies.iter().any(|p| p == policy);
        want(
            &mut out,
            "role policy",
            policy,
            exists,
            wanted.role_policies.contains(&policy),
        );
    }
    // Data outlives a level change: only `down` deletes the database and bucket.
    want(
        &mut out,
        "database",
        &main,
        found.database.is_some(),
        wanted.database || found.database.is_some(),
    );
    want(
        &mut out,
        "DB subnet group",
        &main,
        found.db_subnet_group.is_some(),
        wanted.database || found.database.is_some(),
    );
    let bucket = wanted
        .bucket
        .clone()
        .or(found.bucket.clone())
        .unwrap_or_default();
    want(
        &mut out,
        "bucket",
        &bucket,
        found.bucket.is_some(),
        wanted.bucket.is_some() || found.bucket.is_some(),
    );
    // Every level: the app binary goes through it (and stays, with
    // --app-url, for when the binary is delivered again).
    want(
        &mut out,
        "artifacts bucket",
        &format!("{}-app", bucket_base(found)),
        found.artifacts_bucket.is_some(),
        true,
    );
    cache_change(wanted, found, &main, &mut out);
    want(
        &mut out,
        "cache subnet group",
        &main,
        found.cache_subnet_group.is_some(),
        wanted.cache_engine.is_some(),
    );
    want(
        &mut out,
        "load balancer",
        &main,
        found.load_balancer.is_some(),
        wanted.load_balancer,
    );
    want(
        &mut out,
        "target group",
        &main,
        found.target_group.is_some(),
        wanted.load_balancer,
    );
    let listeners = usize::from(wanted.load_balancer) + usize::from(wanted.https);
    if found.listeners.len() != listeners && wanted.load_balancer && found.load_balancer.is_some() {
        out.push(Change::new(
            "listeners",
            &main,
            Action::Update(format!("{} → {listeners}", found.listeners.len())),
        ));
    }
    fleet_changes(wanted, found, &main, &mut out);
    out
}

/// `photoscale-<stack>-<account>-<region>`, the buckets' common name.
fn bucket_base(found: &Inventory) -> String {
    format!(
        "photoscale-{}-{}-{}",
        found.stack, found.account, found.region
    )
}

/// Create, keep or delete a resource that either exists or not.
fn want(out: &mut Vec<Change>, kind: &'static str, name: &str, exists: bool, wanted: bool) {
    let action = match (exists, wanted) {
        (false, true) => Action::Create,
        (true, true) => Action::Keep,
        (true, false) => Action::Delete,
        (false, false) => return,
    };
    out.push(Change::new(kind, name, action));
}

fn cache_change(wanted: &Wanted, found: &Inventory, main: &str, out: &mut Vec<Change>) {
    let action = match (&found.cache_cluster, wanted.cache_engine) {
        (None, Some(_)) => Action::Create,
        (Some(c), Some(engine)) if c.engine != engine => {
            Action::Replace(format!("{} → {engine}", c.engine))
        }
        (Some(_), Some(_)) => Action::Keep,
        (Some(_), None) => Action::Delete,
        (None, None) => return,
    };
    out.push(Change::new("cache cluster", main, action));
}

fn fleet_changes(wanted: &Wanted, found: &Inventory, main: &str, out: &mut Vec<Change>) {
    // Standalone instances: keep those with the wanted configuration.
    let mut kept = 0;
    for instance in &found.instances {
        let current = instance.config.as_deref() == Some(&wanted.config);
        let action = if current && kept < wanted.instances {
            kept += 1;
            Action::Keep
        } else if wanted.instances > 0 && !current {
            Action::Replace("configuration changed".into())
        } else {
            Action::Delete
        };
        out.push(Change::new("instance", &instance.id, action));
    }
    let replacing = out
        .iter()
        .filter(|c| c.kind == "instance" && matches!(c.action, Action::Replace(_)))
        .count() as u32;
    for _ in (kept + replacing)..wanted.instances {
        out.push(Change::new("instance", "(new)", Action::Create));
    }
    // Launch templates are per configuration: a new one replaces the old.
    let mut has_wanted_template = false;
    for template in &found.launch_templates {
        let current = wanted.auto_scaling && template.config.as_deref() == Some(&wanted.config);
        has_wanted_template |= current;
        let action = if current {
            Action::Keep
        } else {
            Action::Delete
        };
        out.push(Change::new("launch template", &template.name, action));
    }
    if wanted.auto_scaling && !has_wanted_template {
        out.push(Change::new(
            "launch template",
            format!("{main}-{}", wanted.config),
            Action::Create,
        ));
    }
    let group = match &found.auto_scaling_group {
        None if wanted.auto_scaling => Some(Action::Create),
        Some(_) if wanted.auto_scaling => Some(Action::Update(
            "sizes, health check and policies are set again".into(),
        )),
        Some(_) => Some(Action::Delete),
        None => None,
    };
    if let Some(action) = group {
        out.push(Change::new("Auto Scaling group", main, action));
    }
    if wanted.auto_scaling {
        for instance in &found.group_instances {
            if instance.config.as_deref() != Some(&wanted.config) {
                out.push(Change::new(
                    "instance",
                    &instance.id,
                    Action::Replace("configuration changed".into()),
                ));
            }
        }
    }
    for alarm in &wanted.alarms {
        let action = if found.alarms.contains(alarm) {
            Action::Update("threshold, period and action are set again".into())
        } else {
            Action::Create
        };
        out.push(Change::new("alarm", alarm, action));
    }
    for alarm in found.alarms.iter().filter(|a| !wanted.alarms.contains(a)) {
        out.push(Change::new("alarm", alarm, Action::Delete));
    }
    let topic = format!("{main}-scaling");
    want(
        out,
        "SNS topic",
        &topic,
        found.topic.is_some(),
        wanted.topic,
    );
}

/// True when `changes` would change nothing.
pub fn nothing_to_do(changes: &[Change]) -> bool {
    changes
        .iter()
        .all(|c| c.action == Action::Keep || c.action.is_routine_update())
}

impl Action {
    /// Settings `up` writes again every time (idempotent puts).
    fn is_routine_update(&self) -> bool {
        matches!(self, Action::Update(why) if why.contains("set again"))
    }
}

/// The plan as text.
pub fn render(changes: &[Change]) -> String {
    let mut text = String::new();
    for change in changes {
        text.push_str(&change.to_string());
        text.push('\n');
    }
    if nothing_to_do(changes) {
        text.push_str("Nothing to create, replace or delete.\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::inventory::Instance;
    use crate::aws::{Connection, StackName};
    use crate::spec::{Overrides, Target};

    fn options() -> AwsOptions {
        let stack = StackName::parse("demo").unwrap();
        AwsOptions::new(stack, Connection::default(), "/tmp".into())
    }

    fn wanted_at(level: u8) -> Wanted {
        let spec = StackSpec::for_level(level, Target::Aws, &Overrides::default()).unwrap();
        let bucket = (spec.storage == Storage::S3).then(|| "b".to_owned());
        wanted_with_bucket(&spec, &options(), "eu-west-1", bucket)
    }

    fn empty() -> Inventory {
        Inventory {
            stack: "demo".into(),
            ..Default::default()
        }
    }

    fn actions(changes: &[Change], kind: &str) -> Vec<Action> {
        changes
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.action.clone())
            .collect()
    }

    #[test]
    fn each_level_adds_its_resources() {
        let at0 = changes(&wanted_at(0), &empty());
        assert_eq!(actions(&at0, "instance"), [Action::Create]);
        assert!(actions(&at0, "load balancer").is_empty());
        let at1 = changes(&wanted_at(1), &empty());
        assert_eq!(actions(&at1, "instance"), [Action::Create, Action::Create]);
        assert_eq!(actions(&at1, "database"), [Action::Create]);
        assert_eq!(actions(&at1, "cache cluster"), [Action::Create]);
        assert_eq!(actions(&at1, "security group").len(), 4);
        let at2 = changes(&wanted_at(2), &empty());
        assert_eq!(actions(&at2, "bucket"), [Action::Create]);
        // Secrets, photos, and the app binary (delivered, no --app-url).
        assert_eq!(
            actions(&at2, "role policy"),
            [Action::Create, Action::Create, Action::Create]
        );
        let at3 = changes(&wanted_at(3), &empty());
        assert!(
            actions(&at3, "instance").is_empty(),
            "the group launches them"
        );
        assert_eq!(actions(&at3, "Auto Scaling group"), [Action::Create]);
        assert_eq!(actions(&at3, "alarm"), [Action::Create, Action::Create]);
    }

    #[test]
    fn a_changed_configuration_replaces_instances_and_data_is_kept() {
        let at1 = wanted_at(1);
        let mut found = empty();
        found.database = Some(crate::aws::inventory::Endpointed {
            id: "photoscale-demo".into(),
            status: "available".into(),
            endpoint: None,
        });
        found.instances = vec![Instance {
            id: "i-1".into(),
            state: "running".into(),
            config: Some("old".into()),
            public_address: None,
        }];
        let to0 = changes(&wanted_at(0), &found);
        assert_eq!(
            actions(&to0, "instance"),
            [Action::Replace("configuration changed".into())]
        );
        assert_eq!(
            actions(&to0, "database"),
            [Action::Keep],
            "only down deletes data"
        );
        found.instances[0].config = Some(at1.config.clone());
        let same = changes(&at1, &found);
        assert_eq!(actions(&same, "instance"), [Action::Keep, Action::Create]);
    }
}
