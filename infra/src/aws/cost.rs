//! What a level costs to leave running, per hour and per month, from a
//! price table kept here (never fetched at run time, so `plan` works
//! offline and says exactly what it assumed). An estimate: on-demand
//! prices, no free tier, light traffic; data transfer, S3 storage and
//! requests, CloudWatch and taxes are left out and said to be.

use std::fmt::Write as _;

use serde::Serialize;

use super::AwsOptions;
use crate::spec::{Database, StackSpec};

/// When the prices below were taken from AWS's public price lists.
pub const PRICES_AS_OF: &str = "2025";

/// Hours in AWS's billing month.
const HOURS_PER_MONTH: f64 = 730.0;

/// On-demand prices of one region, in US dollars.
struct RegionPrices {
    region: &'static str,
    /// EC2, Linux, per hour.
    instances: &'static [(&'static str, f64)],
    /// RDS for MySQL, single-AZ, per hour.
    databases: &'static [(&'static str, f64)],
    /// RDS general-purpose (gp2) storage, per GB-month.
    database_storage_gb_month: f64,
    /// ElastiCache (Memcached or Redis OSS), per node-hour.
    cache_nodes: &'static [(&'static str, f64)],
    /// Application Load Balancer, per hour, and per LCU-hour.
    load_balancer_hour: f64,
    load_balancer_lcu_hour: f64,
    /// A public IPv4 address, per hour (instances and the ALB's).
    public_ipv4_hour: f64,
}

const PRICES: &[RegionPrices] = &[
    RegionPrices {
        region: "us-east-1",
        instances: &[
            ("t3.nano", 0.0052),
            ("t3.micro", 0.0104),
            ("t3.small", 0.0208),
            ("t3.medium", 0.0416),
            ("t3.large", 0.0832),
        ],
        databases: &[
            ("db.t3.micro", 0.017),
            ("db.t3.small", 0.034),
            ("db.t3.medium", 0.068),
        ],
        database_storage_gb_month: 0.115,
        cache_nodes: &[("cache.t3.micro", 0.017), ("cache.t3.small", 0.034)],
        load_balancer_hour: 0.0225,
        load_balancer_lcu_hour: 0.008,
        public_ipv4_hour: 0.005,
    },
    RegionPrices {
        region: "eu-west-1",
        instances: &[
            ("t3.nano", 0.0057),
            ("t3.micro", 0.0114),
            ("t3.small", 0.0228),
            ("t3.medium", 0.0456),
            ("t3.large", 0.0912),
        ],
        databases: &[
            ("db.t3.micro", 0.018),
            ("db.t3.small", 0.036),
            ("db.t3.medium", 0.072),
        ],
        database_storage_gb_month: 0.127,
        cache_nodes: &[("cache.t3.micro", 0.018), ("cache.t3.small", 0.036)],
        load_balancer_hour: 0.0252,
        load_balancer_lcu_hour: 0.008,
        public_ipv4_hour: 0.005,
    },
];

/// The load balancer's public addresses: one per zone, up to three.
const LOAD_BALANCER_ADDRESSES: f64 = 3.0;
/// The database's storage (`infra up` allocates 20 GB).
const DATABASE_GB: f64 = 20.0;

/// One priced part: per hour with the fleet at its desired size, and at
/// its maximum (the same below level 3).
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub what: String,
    pub per_hour_desired: f64,
    pub per_hour_max: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub region: String,
    pub lines: Vec<Line>,
    /// What has no price in the table (the estimate leaves it out).
    pub unpriced: Vec<String>,
    pub prices_as_of: &'static str,
}

impl Estimate {
    pub fn per_hour(&self) -> (f64, f64) {
        self.lines.iter().fold((0.0, 0.0), |(d, m), l| {
            (d + l.per_hour_desired, m + l.per_hour_max)
        })
    }
}

fn price(table: &[(&str, f64)], name: &str) -> Option<f64> {
    table.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// The estimate for `spec` in `region` with `options`' sizes.
pub fn estimate(spec: &StackSpec, options: &AwsOptions, region: &str) -> Estimate {
    let mut out = Estimate {
        region: region.to_owned(),
        lines: Vec::new(),
        unpriced: Vec::new(),
        prices_as_of: PRICES_AS_OF,
    };
    let Some(prices) = PRICES.iter().find(|p| p.region == region) else {
        out.unpriced
            .push(format!("everything: no prices for {region} in the table"));
        return out;
    };
    let desired = f64::from(spec.fleet.desired);
    let max = if spec.scaling.is_some() {
        f64::from(spec.fleet.max)
    } else {
        desired
    };
    let mut line = |what: String, desired: f64, max: f64| {
        out.lines.push(Line {
            what,
            per_hour_desired: desired,
            per_hour_max: max,
        })
    };
    let instance_type = &options.instance_type;
    let unpriced_instance = match price(prices.instances, instance_type) {
        Some(p) => {
            line(format!("instances ({instance_type})"), desired * p, max * p);
            None
        }
        None => Some(format!("instances: no price for {instance_type}")),
    };
    let ip = prices.public_ipv4_hour;
    line(
        "instances' public IPv4 addresses".into(),
        desired * ip,
        max * ip,
    );
    if spec.load_balancer.is_some() {
        let hour = prices.load_balancer_hour + prices.load_balancer_lcu_hour;
        line("load balancer (1 LCU of traffic)".into(), hour, hour);
        let addresses = LOAD_BALANCER_ADDRESSES * ip;
        line(
            "load balancer's public IPv4 addresses (3 zones)".into(),
            addresses,
            addresses,
        );
    }
    let mut unpriced: Vec<String> = unpriced_instance.into_iter().collect();
    if spec.database == Database::Mariadb {
        let class = &options.db_instance_class;
        match price(prices.databases, class) {
            Some(p) => {
                let storage = DATABASE_GB * prices.database_storage_gb_month / HOURS_PER_MONTH;
                line(
                    format!("RDS MySQL ({class}, 20 GB)"),
                    p + storage,
                    p + storage,
                );
            }
            None => unpriced.push(format!("RDS: no price for {class}")),
        }
    }
    if super::user_data::cache_engine(spec).is_some() {
        let node = &options.cache_node_type;
        match price(prices.cache_nodes, node) {
            Some(p) => line(format!("ElastiCache ({node}, 1 node)"), p, p),
            None => unpriced.push(format!("ElastiCache: no price for {node}")),
        }
    }
    out.unpriced = unpriced;
    out
}

/// The estimate as `plan` prints it.
pub fn render(estimate: &Estimate, scaling: bool) -> String {
    let mut text = format!(
        "\nEstimated cost in {} (an estimate: on-demand prices of {} from the table in the code, no free tier):\n",
        estimate.region, estimate.prices_as_of
    );
    let money =
        |per_hour: f64| format!("${per_hour:.3}/h  ${:.0}/month", per_hour * HOURS_PER_MONTH);
    for line in &estimate.lines {
        let _ = write!(text, "  {:<48} {}", line.what, money(line.per_hour_desired));
        if scaling && line.per_hour_max != line.per_hour_desired {
            let _ = write!(text, "   at max: {}", money(line.per_hour_max));
        }
        text.push('\n');
    }
    let (desired, max) = estimate.per_hour();
    let _ = write!(text, "  {:<48} {}", "total", money(desired));
    if scaling {
        let _ = write!(text, "   at max: {}", money(max));
    }
    text.push('\n');
    for missing in &estimate.unpriced {
        let _ = writeln!(text, "  not priced: {missing}");
    }
    text.push_str(
        "  not included: data transfer, S3 storage and requests, CloudWatch, taxes; no NAT gateway is made (public subnets)\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Overrides, Target};

    use crate::aws::test_options as options;

    fn spec(level: u8) -> StackSpec {
        StackSpec::for_level(level, Target::Aws, &Overrides::default()).unwrap()
    }

    #[test]
    fn level_0_is_one_instance_and_its_address() {
        let estimate = estimate(&spec(0), &options(), "eu-west-1");
        let (desired, max) = estimate.per_hour();
        assert!((desired - (0.0114 + 0.005)).abs() < 1e-9, "{estimate:#?}");
        assert_eq!(desired, max);
        assert!(estimate.unpriced.is_empty());
    }

    #[test]
    fn level_3_is_priced_at_desired_and_at_max() {
        let spec = spec(3);
        let estimate = estimate(&spec, &options(), "us-east-1");
        let (desired, max) = estimate.per_hour();
        let extra = f64::from(spec.fleet.max - spec.fleet.desired) * (0.0104 + 0.005);
        assert!((max - desired - extra).abs() < 1e-9, "{estimate:#?}");
        let text = render(&estimate, true);
        assert!(text.contains("load balancer (1 LCU of traffic)"), "{text}");
        assert!(text.contains("RDS MySQL (db.t3.micro, 20 GB)"), "{text}");
        assert!(text.contains("at max: $"), "{text}");
        assert!(text.contains("an estimate"), "{text}");
    }

    #[test]
    fn what_the_table_lacks_is_said() {
        let mut options = options();
        options.instance_type = "m7i.48xlarge".into();
        let estimate = estimate(&spec(1), &options, "eu-west-1");
        assert!(estimate.unpriced.iter().any(|u| u.contains("m7i.48xlarge")));
        let elsewhere = super::estimate(&spec(1), &options, "ap-south-2");
        assert!(elsewhere.lines.is_empty());
        assert!(render(&elsewhere, false).contains("no prices for ap-south-2"));
    }
}
