//! What the stack has in AWS: the resources found, by kind (found by
//! discovery.rs).

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub stack: String,
    pub region: String,
    /// The AWS account the stack is in.
    pub account: String,
    /// Security groups by kind (lb, app, db, cache) → group id.
    pub security_groups: BTreeMap<String, String>,
    /// App instances not in an Auto Scaling group (levels 0 to 2).
    pub instances: Vec<Instance>,
    /// Instances the Auto Scaling group launched.
    pub group_instances: Vec<Instance>,
    pub load_balancer: Option<LoadBalancer>,
    pub target_group: Option<Arn>,
    pub listeners: Vec<String>,
    pub database: Option<Endpointed>,
    pub db_subnet_group: Option<String>,
    pub cache_cluster: Option<CacheCluster>,
    pub cache_subnet_group: Option<String>,
    pub bucket: Option<String>,
    /// Where `up` puts the app binary for the instances.
    pub artifacts_bucket: Option<String>,
    /// The instances' role and instance profile.
    pub iam: super::iam::IamFound,
    /// One per configuration: a changed configuration gets a new template.
    pub launch_templates: Vec<LaunchTemplate>,
    pub auto_scaling_group: Option<AutoScalingGroup>,
    pub scaling_policies: Vec<String>,
    pub alarms: Vec<String>,
    pub topic: Option<String>,
    pub secrets_parameter: Option<String>,
    /// The level the stack was last brought to (from the tags).
    pub level: Option<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub id: String,
    pub state: String,
    pub config: Option<String>,
    pub public_address: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub dns_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Arn(pub String);

#[derive(Debug, Clone, Serialize)]
pub struct Endpointed {
    pub id: String,
    pub status: String,
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheCluster {
    pub id: String,
    pub engine: String,
    pub status: String,
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    /// The configuration fingerprint its instances get.
    pub config: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AutoScalingGroup {
    pub name: String,
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    /// The launch template its new instances come from.
    pub template_id: Option<String>,
}

impl Inventory {
    /// True when nothing of the stack exists.
    pub fn is_empty(&self) -> bool {
        self.security_groups.is_empty()
            && self.instances.is_empty()
            && self.group_instances.is_empty()
            && self.load_balancer.is_none()
            && self.target_group.is_none()
            && self.database.is_none()
            && self.db_subnet_group.is_none()
            && self.cache_cluster.is_none()
            && self.cache_subnet_group.is_none()
            && self.bucket.is_none()
            && self.artifacts_bucket.is_none()
            && self.iam.is_empty()
            && self.launch_templates.is_empty()
            && self.auto_scaling_group.is_none()
            && self.alarms.is_empty()
            && self.topic.is_none()
            && self.secrets_parameter.is_none()
    }

    /// The stack as text, for `infra status --target aws`.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return format!(
                "Nothing of stack {} exists in {}.\n",
                self.stack, self.region
            );
        }
        let level = self.level.map_or("?".to_owned(), |l| l.to_string());
        let mut out = format!("Stack {} in {} (level {level})", self.stack, self.region);
        if let Some(url) = self.url() {
            out.push_str(&format!(": {url}"));
        }
        out.push('\n');
        let mut line = |kind: &str, what: String| out.push_str(&format!("  {kind:<18} {what}\n"));
        if let Some(lb) = &self.load_balancer {
            line(
                "load balancer",
                format!("{} ({} listeners)", lb.dns_name, self.listeners.len()),
            );
        }
        if let Some(db) = &self.database {
            line(
                "database",
                format!(
                    "{} {} {}",
                    db.id,
                    db.status,
                    db.endpoint.as_deref().unwrap_or("")
                ),
            );
        }
        if let Some(c) = &self.cache_cluster {
            line(
                "cache cluster",
                format!(
                    "{} {} {} {}",
                    c.id,
                    c.engine,
                    c.status,
                    c.endpoint.as_deref().unwrap_or("")
                ),
            );
        }
        if let Some(bucket) = &self.bucket {
            line("bucket", bucket.clone());
        }
        if let Some(g) = &self.auto_scaling_group {
            line(
                "Auto Scaling group",
                format!(
                    "{} min {} desired {} max {}",
                    g.name, g.min, g.desired, g.max
                ),
            );
        }
        for alarm in &self.alarms {
            line("alarm", alarm.clone());
        }
        for i in self.instances.iter().chain(&self.group_instances) {
            let address = i.public_address.as_deref().unwrap_or("-");
            line("instance", format!("{} {} {address}", i.id, i.state));
        }
        for (kind, id) in &self.security_groups {
            line("security group", format!("{kind} {id}"));
        }
        if let Some(role) = &self.iam.role {
            line(
                "IAM role",
                format!("{role} ({})", self.iam.role_policies.join(", ")),
            );
        }
        if let Some(legacy) = &self.iam.legacy_role {
            line("IAM role", format!("{legacy} (old name, removed by up)"));
        }
        out
    }

    /// Where users browse to: the load balancer, else the one instance.
    pub fn url(&self) -> Option<String> {
        if let Some(lb) = &self.load_balancer {
            return Some(format!("http://{}/", lb.dns_name));
        }
        let address = self
            .instances
            .iter()
            .find_map(|i| i.public_address.clone())?;
        Some(format!("http://{address}/"))
    }
}
