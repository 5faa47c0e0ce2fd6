"""VPC over three AZs: private subnets for nodes and the database, public ones for NAT only."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

AZ_COUNT = 3
# Zone ids where EKS refuses control-plane subnets (UnsupportedAvailabilityZoneException).
# Ids, not names: us-east-1e is use1-az3 in one account and another zone in the next.
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")


@dataclass
class NetworkArgs:
    cidr: str
    region: str
    # False: one NAT gateway shared by all AZs (cheap; an AZ outage cuts egress everywhere).
    nat_gateway_per_az: bool = False


def subnet_cidrs(cidr: str) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs: three large private quarters, three small public blocks.

    Pods take VPC addresses (VPC CNI), so private subnets get most of the space; public
    subnets only hold NAT gateways.
    """
    quarters = list(ipaddress.ip_network(cidr).subnets(prefixlen_diff=2))
    private = [str(q) for q in quarters[:AZ_COUNT]]
    public = [str(s) for s in list(quarters[3].subnets(prefixlen_diff=2))[:AZ_COUNT]]
    return private, public


def _three_zones(names: list[str]) -> list[str]:
    if len(names) < AZ_COUNT:
        raise pulumi.RunError(
            f"the region has {len(names)} availability zones EKS supports ({', '.join(names)}), "
            f"{AZ_COUNT} are needed: choose another aws:region"
        )
    return names[:AZ_COUNT]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:infra:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Local zones and wavelength zones are opt-in; EKS and RDS need regular AZs.
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            exclude_zone_ids=list(EKS_UNSUPPORTED_ZONE_IDS),
            opts=pulumi.InvokeOptions(parent=self),
        )
        names = zones.names.apply(_three_zones)
        az_names = [names.apply(lambda n, i=i: n[i]) for i in range(AZ_COUNT)]

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            # Both required for the private EKS endpoint and RDS endpoint names to resolve.
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)

        private_cidrs, public_cidrs = subnet_cidrs(args.cidr)
        public_subnets = [
            aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[i],
                availability_zone=az_names[i],
                # Nothing but NAT gateways (with their own Elastic IPs) lives here.
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{i}", "lakehouse.io/tier": "public"},
                opts=child,
            )
            for i in range(AZ_COUNT)
        ]
        private_subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[i],
                availability_zone=az_names[i],
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{i}", "lakehouse.io/tier": "private"},
                opts=child,
            )
            for i in range(AZ_COUNT)
        ]

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags={"Name": f"{name}-public"},
            opts=child,
        )
        for i, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=child,
            )

        nat_count = AZ_COUNT if args.nat_gateway_per_az else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc", opts=child)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public_subnets[i].id,
                    tags={"Name": f"{name}-nat-{i}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_rts = []
        for i, subnet in enumerate(private_subnets):
            # Per-AZ route tables even with a single NAT, so switching natGatewayPerAz only
            # changes routes, never subnets.
            nat = nats[i] if args.nat_gateway_per_az else nats[0]
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                tags={"Name": f"{name}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)

        # S3 traffic (data, Iceberg metadata, and ECR image layers, which ECR serves from S3)
        # stays on the AWS network and off the NAT bill. The default endpoint policy is kept:
        # narrowing it to our buckets would break image pulls.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        self.vpc_id = vpc.id
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_route_table_ids = [rt.id for rt in private_rts]
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )
