//! Which of a VPC's subnets the stack uses: one per availability zone, only
//! zones that offer the instance type (us-east-1e offers no t3 instances,
//! for one), and only public subnets (a route to an internet gateway and
//! public addresses for instances), since instances download the app and
//! reach SSM over the internet. At most three zones: the load balancer, the
//! group and the data services' subnet groups all use the same ones.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, LocationType, RouteTable};

use super::clients::Clients;
use super::error::{api, AwsError};

/// What decides whether a subnet can take the stack's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetFacts {
    pub id: String,
    pub zone: String,
    /// The zone's default subnet (preferred when a zone has several).
    pub default_for_zone: bool,
    /// Its route table sends 0.0.0.0/0 to an internet gateway.
    pub internet_route: bool,
    /// Instances launched in it get a public IPv4 address.
    pub public_addresses: bool,
}

/// A load balancer needs two zones; more than three adds nothing here.
const MIN_ZONES: usize = 2;
const MAX_ZONES: usize = 3;

/// One usable subnet per zone (at most three), or an error naming what each
/// left-out subnet lacks.
pub fn choose(
    vpc_id: &str,
    subnets: &[SubnetFacts],
    offered_zones: &BTreeSet<String>,
    instance_type: &str,
) -> Result<Vec<String>, String> {
    let mut by_zone: BTreeMap<&str, &SubnetFacts> = BTreeMap::new();
    let mut left_out = Vec::new();
    for subnet in subnets {
        let reason = if !offered_zones.contains(&subnet.zone) {
            Some(format!(
                "zone {} does not offer {instance_type}",
                subnet.zone
            ))
        } else if !subnet.internet_route {
            Some("no route to an internet gateway (a private subnet)".to_owned())
        } else if !subnet.public_addresses {
            Some("does not give instances public IPv4 addresses".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            left_out.push(format!("{} ({}): {reason}", subnet.id, subnet.zone));
            continue;
        }
        let better = |current: &&SubnetFacts| {
            (subnet.default_for_zone, std::cmp::Reverse(&subnet.id))
                > (current.default_for_zone, std::cmp::Reverse(&current.id))
        };
        match by_zone.get(subnet.zone.as_str()) {
            Some(current) if !better(current) => {}
            _ => {
                by_zone.insert(&subnet.zone, subnet);
            }
        }
    }
    if by_zone.len() < MIN_ZONES {
        let mut message = format!(
            "VPC {vpc_id} has usable subnets in {} availability zone(s); the stack needs public subnets in {MIN_ZONES} zones that offer {instance_type}",
            by_zone.len()
        );
        for line in &left_out {
            message.push_str(&format!("\n  left out: {line}"));
        }
        message.push_str(
            "\n  fix: in the VPC, give two zones a subnet whose route table sends 0.0.0.0/0 to an internet gateway and that auto-assigns public IPv4 addresses \
             (aws ec2 modify-subnet-attribute --subnet-id ID --map-public-ip-on-launch), pass another --vpc, or choose another --instance-type",
        );
        return Err(message);
    }
    Ok(by_zone
        .values()
        .take(MAX_ZONES)
        .map(|s| s.id.clone())
        .collect())
}

/// The facts about every candidate subnet of `vpc_id` (only the default
/// subnets of a default VPC) and the zones offering `instance_type`.
pub async fn survey(
    clients: &Clients,
    vpc_id: &str,
    default_vpc: bool,
    instance_type: &str,
) -> Result<(Vec<SubnetFacts>, BTreeSet<String>), AwsError> {
    let in_vpc = || Filter::builder().name("vpc-id").values(vpc_id).build();
    let mut request = clients.ec2.describe_subnets().filters(in_vpc());
    if default_vpc {
        request = request.filters(
            Filter::builder()
                .name("default-for-az")
                .values("true")
                .build(),
        );
    }
    let subnets = request
        .send()
        .await
        .map_err(api("DescribeSubnets", vpc_id))?;
    let tables = clients
        .ec2
        .describe_route_tables()
        .filters(in_vpc())
        .send()
        .await
        .map_err(api("DescribeRouteTables", vpc_id))?;
    let routes_out = RoutesOut::new(tables.route_tables());
    let facts = subnets
        .subnets()
        .iter()
        .filter_map(|s| {
            let id = s.subnet_id()?.to_owned();
            Some(SubnetFacts {
                zone: s.availability_zone()?.to_owned(),
                default_for_zone: s.default_for_az() == Some(true),
                internet_route: routes_out.has_internet_route(&id),
                public_addresses: s.map_public_ip_on_launch() == Some(true),
                id,
            })
        })
        .collect();
    let offerings = clients
        .ec2
        .describe_instance_type_offerings()
        .location_type(LocationType::AvailabilityZone)
        .filters(
            Filter::builder()
                .name("instance-type")
                .values(instance_type)
                .build(),
        )
        .send()
        .await
        .map_err(api("DescribeInstanceTypeOfferings", instance_type))?;
    let zones = offerings
        .instance_type_offerings()
        .iter()
        .filter_map(|o| o.location().map(str::to_owned))
        .collect();
    Ok((facts, zones))
}

/// Which subnets reach an internet gateway: a subnet uses the route table
/// associated with it, else the VPC's main one.
struct RoutesOut {
    by_subnet: BTreeMap<String, bool>,
    main: bool,
}

impl RoutesOut {
    fn new(tables: &[RouteTable]) -> Self {
        let mut out = Self {
            by_subnet: BTreeMap::new(),
            main: false,
        };
        for table in tables {
            let internet = table.routes().iter().any(|r| {
                r.destination_cidr_block() == Some("0.0.0.0/0")
                    && r.gateway_id().is_some_and(|g| g.starts_with("igw-"))
                    && r.state().is_none_or(|s| s.as_str() == "active")
            });
            for association in table.associations() {
                if association.main() == Some(true) {
                    out.main = internet;
                }
                if let Some(subnet) = association.subnet_id() {
                    out.by_subnet.insert(subnet.to_owned(), internet);
                }
            }
        }
        out
    }

    fn has_internet_route(&self, subnet: &str) -> bool {
        self.by_subnet.get(subnet).copied().unwrap_or(self.main)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(id: &str, zone: &str) -> SubnetFacts {
        SubnetFacts {
            id: id.into(),
            zone: zone.into(),
            default_for_zone: false,
            internet_route: true,
            public_addresses: true,
        }
    }

    fn zones(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|z| z.to_string()).collect()
    }

    #[test]
    fn one_subnet_per_zone_preferring_the_default_and_at_most_three() {
        let mut default_b = subnet("subnet-b2", "b");
        default_b.default_for_zone = true;
        let subnets = [
            subnet("subnet-a2", "a"),
            subnet("subnet-a1", "a"),
            subnet("subnet-b1", "b"),
            default_b,
            subnet("subnet-c", "c"),
            subnet("subnet-d", "d"),
        ];
        let chosen = choose("vpc-1", &subnets, &zones(&["a", "b", "c", "d"]), "t3.micro");
        assert_eq!(chosen.unwrap(), ["subnet-a1", "subnet-b2", "subnet-c"]);
    }

    #[test]
    fn zones_without_the_instance_type_are_left_out() {
        // us-east-1e offers no t3 instances.
        let subnets = [
            subnet("subnet-e", "us-east-1e"),
            subnet("subnet-a", "us-east-1a"),
            subnet("subnet-b", "us-east-1b"),
        ];
        let chosen = choose(
            "vpc-1",
            &subnets,
            &zones(&["us-east-1a", "us-east-1b"]),
            "t3.micro",
        );
        assert_eq!(chosen.unwrap(), ["subnet-a", "subnet-b"]);
    }

    #[test]
    fn private_subnets_are_refused_with_what_each_lacks() {
        let mut private = subnet("subnet-p", "b");
        private.internet_route = false;
        let mut no_addresses = subnet("subnet-n", "c");
        no_addresses.public_addresses = false;
        let subnets = [
            subnet("subnet-a", "a"),
            private,
            no_addresses,
            subnet("subnet-x", "x"),
        ];
        let error = choose("vpc-9", &subnets, &zones(&["a", "b", "c"]), "t3.small").unwrap_err();
        assert!(
            error.contains("VPC vpc-9 has usable subnets in 1 availability zone(s)"),
            "{error}"
        );
        assert!(
            error.contains("subnet-p (b): no route to an internet gateway"),
            "{error}"
        );
        assert!(
            error.contains("subnet-n (c): does not give instances public IPv4"),
            "{error}"
        );
        assert!(
            error.contains("subnet-x (x): zone x does not offer t3.small"),
            "{error}"
        );
        assert!(error.contains("fix: "), "{error}");
    }

    #[test]
    fn a_subnet_without_its_own_table_uses_the_main_one() {
        use aws_sdk_ec2::types::{Route, RouteTableAssociation};
        let internet = RouteTable::builder()
            .associations(RouteTableAssociation::builder().main(true).build())
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id("igw-1")
                    .build(),
            )
            .build();
        let private = RouteTable::builder()
            .associations(
                RouteTableAssociation::builder()
                    .subnet_id("subnet-p")
                    .build(),
            )
            .routes(
                Route::builder()
                    .destination_cidr_block("10.0.0.0/16")
                    .gateway_id("local")
                    .build(),
            )
            .build();
        let routes = RoutesOut::new(&[internet, private]);
        assert!(routes.has_internet_route("subnet-any"));
        assert!(!routes.has_internet_route("subnet-p"));
    }
}
