"""The VPC: three AZs, private subnets behind NAT, public subnets for NAT only, S3 endpoint."""

from __future__ import annotations

import ipaddress

from infra.network import subnet_cidrs
from tests.pulumi_mocks import AZS, Deployment, Registered

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"


def subnets(d: Deployment, tier: str) -> list[Registered]:
    return [s for s in d.of_type(SUBNET) if s.inputs["tags"]["lakehouse.io/tier"] == tier]


def route_table_of(d: Deployment, subnet: Registered) -> Registered:
    [assoc] = [a for a in d.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    return d.by_id(assoc.inputs["routeTableId"])


def default_route(route_table: Registered) -> dict:
    [route] = [r for r in route_table.inputs["routes"] if r["cidrBlock"] == "0.0.0.0/0"]
    return route


def test_vpc_resolves_dns_for_the_private_eks_and_rds_endpoints(deployment: Deployment):
    vpc = deployment.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True
    assert vpc.inputs["enableDnsSupport"] is True


def test_three_private_and_three_public_subnets_one_per_az(deployment: Deployment):
    for tier in ("private", "public"):
        tier_subnets = subnets(deployment, tier)
        # The first three zones EKS supports: us-east-1c is use1-az3 in the mocked account.
        expected = [AZS[0], AZS[1], AZS[3]]
        assert sorted(s.inputs["availabilityZone"] for s in tier_subnets) == expected, tier


def test_no_subnet_hands_out_public_ips(deployment: Deployment):
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in deployment.of_type(SUBNET))


def test_subnets_lie_in_the_vpc_and_do_not_overlap(deployment: Deployment):
    vpc = ipaddress.ip_network(deployment.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in deployment.of_type(SUBNET)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_private_subnets_get_most_of_the_address_space_because_pods_take_vpc_ips():
    private, public = subnet_cidrs("10.0.0.0/16")
    assert private == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    assert public == ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"]


def test_public_subnets_route_to_the_internet_gateway(deployment: Deployment):
    igw = deployment.one("aws:ec2/internetGateway:InternetGateway")
    for subnet in subnets(deployment, "public"):
        assert default_route(route_table_of(deployment, subnet))["gatewayId"] == igw.id


def test_private_subnets_reach_the_internet_only_through_nat(deployment: Deployment):
    nat_ids = {n.id for n in deployment.of_type(NAT)}
    for subnet in subnets(deployment, "private"):
        route = default_route(route_table_of(deployment, subnet))
        assert route["natGatewayId"] in nat_ids
        assert "gatewayId" not in route


def test_nat_gateways_sit_in_public_subnets_with_elastic_ips(deployment: Deployment):
    public_ids = {s.id for s in subnets(deployment, "public")}
    eip_allocations = {e.outputs["allocationId"] for e in deployment.of_type("aws:ec2/eip:Eip")}
    for nat in deployment.of_type(NAT):
        assert nat.inputs["subnetId"] in public_ids
        assert nat.inputs["allocationId"] in eip_allocations


def test_prod_routes_each_private_subnet_through_the_nat_in_its_own_az(prod: Deployment):
    for subnet in subnets(prod, "private"):
        nat = prod.by_id(default_route(route_table_of(prod, subnet))["natGatewayId"])
        nat_subnet = prod.by_id(nat.inputs["subnetId"])
        assert nat_subnet.inputs["availabilityZone"] == subnet.inputs["availabilityZone"]


def test_s3_traffic_from_private_subnets_uses_the_gateway_endpoint(deployment: Deployment):
    endpoint = deployment.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    private_tables = {route_table_of(deployment, s).id for s in subnets(deployment, "private")}
    assert set(endpoint.inputs["routeTableIds"]) == private_tables
