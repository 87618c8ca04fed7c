//! Which subnets a stack uses: one per zone, in zones that offer the
//! instance type, and only public ones; a VPC without them is refused with
//! what each subnet lacks, before anything is created.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, LocationType};
use photoscale_infra::aws;

use crate::moto::{spec, Moto};

#[tokio::test]
async fn zones_that_do_not_offer_the_instance_type_are_left_out() {
    // moto models us-east-1e as AWS does: no t3 instances there.
    let moto = Moto::start().await;
    let mut options = moto.options("east");
    options.connection.region = Some("us-east-1".into());
    aws::up(&spec(1), &options).await.unwrap();
    let clients = aws::Clients::connect(&options.connection).await.unwrap();
    let offered: BTreeSet<String> = clients
        .ec2
        .describe_instance_type_offerings()
        .location_type(LocationType::AvailabilityZone)
        .filters(
            Filter::builder()
                .name("instance-type")
                .values(&options.instance_type)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instance_type_offerings()
        .iter()
        .filter_map(|o| o.location().map(str::to_owned))
        .collect();
    assert!(
        !offered.contains("us-east-1e"),
        "moto's model changed: {offered:?}"
    );
    let lb = clients
        .elb
        .describe_load_balancers()
        .names("photoscale-east")
        .send()
        .await
        .unwrap();
    let zones: Vec<&str> = lb.load_balancers()[0]
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name())
        .collect();
    assert_eq!(zones.len(), 3, "{zones:?}");
    assert!(zones.iter().all(|z| offered.contains(*z)), "{zones:?}");
    let running = clients
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag:photoscale:stack")
                .values("east")
                .build(),
        )
        .send()
        .await
        .unwrap();
    for instance in running.reservations().iter().flat_map(|r| r.instances()) {
        let zone = instance
            .placement()
            .and_then(|p| p.availability_zone())
            .unwrap();
        assert!(
            zones.contains(&zone),
            "instance in {zone}, outside {zones:?}"
        );
    }
}

#[tokio::test]
async fn a_vpc_without_public_subnets_is_refused_with_what_is_missing() {
    let moto = Moto::start().await;
    let clients = moto.clients().await;
    let vpc = clients
        .ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnet_ids = Vec::new();
    for (n, zone) in ["eu-west-1a", "eu-west-1b"].into_iter().enumerate() {
        let subnet = clients
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .availability_zone(zone)
            .cidr_block(format!("10.9.{n}.0/24"))
            .send()
            .await
            .unwrap();
        subnet_ids.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let mut options = moto.options("private");
    options.vpc = Some(vpc_id.clone());
    let error = aws::up(&spec(1), &options).await.unwrap_err().to_string();
    assert!(
        error.contains(&format!("VPC {vpc_id} has usable subnets in 0")),
        "{error}"
    );
    for id in &subnet_ids {
        assert!(
            error.contains(&format!("{id} (")) && error.contains("no route to an internet gateway"),
            "{error}"
        );
    }
    assert!(error.contains("fix: "), "{error}");
    let made = aws::status(&options).await.unwrap();
    assert!(made.security_groups.is_empty(), "nothing made: {made:?}");
}
