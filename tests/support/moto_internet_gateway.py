#!/usr/bin/env python3
"""Gives moto's default VPC what AWS's has and moto's lacks: an internet
gateway and a 0.0.0.0/0 route to it in the main route table. photoscale
uses only public subnets (a route to an internet gateway), so without this
no subnet of moto's default VPC qualifies.

usage: moto_internet_gateway.py ENDPOINT REGION [REGION...]
(boto3 comes with moto[server])
"""
import sys

import boto3


def give_internet_gateway(endpoint, region):
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    ec2.create_route(
        RouteTableId=tables[0]["RouteTableId"],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=gateway,
    )


if __name__ == "__main__":
    for region in sys.argv[2:]:
        give_internet_gateway(sys.argv[1], region)
