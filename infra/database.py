"""RDS PostgreSQL for the Hive Metastore: private, encrypted, backed up, TLS enforced.

Only the cluster's nodes (the security group EKS attaches to them) may connect, on 5432.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.config import DatabaseConfig
from workloads.metastore import DatabaseConnection

PORT = 5432
DB_NAME = "metastore"
DB_USER = "hive"  # same names as the local replica (core/settings.py)


@dataclass
class DatabaseArgs:
    config: DatabaseConfig
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    # True: Pulumi `protect` and RDS deletion protection: `pulumi destroy` refuses up front.
    protect_data: bool
    # True: deleting the instance leaves a final snapshot and the automated backups.
    keep_data_on_destroy: bool = True


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    connection: DatabaseConnection

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:infra:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config

        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.private_subnet_ids), opts=child
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Metastore PostgreSQL: reachable from the EKS nodes only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-nodes",
            security_group_id=security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description="PostgreSQL from EKS nodes",
            opts=child,
        )
        # No egress rule: a database never opens connections (security groups are stateful).

        major = cfg.engine_version.split(".")[0]
        parameters = aws.rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{major}",
            parameters=[{"name": "rds.force_ssl", "value": "1"}],
            opts=child,
        )

        # Unique per instance: a fixed name would make the next stack's destroy fail on the
        # snapshot an earlier one left (RDS snapshot names are unique per account and region).
        snapshot_suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=child)
        snapshot_id = snapshot_suffix.hex.apply(
            lambda suffix: f"{pulumi.get_project()}-{pulumi.get_stack()}-metastore-final-{suffix}"
        )
        self.instance = aws.rds.Instance(
            name,
            engine="postgres",
            # A major version only: RDS picks and upgrades the minor in maintenance windows.
            engine_version=major,
            auto_minor_version_upgrade=True,
            instance_class=cfg.instance_class,
            allocated_storage=cfg.allocated_storage_gb,
            max_allocated_storage=cfg.allocated_storage_gb * 5,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=DB_NAME,
            username=DB_USER,
            password=cfg.password,
            port=PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=cfg.multi_az,
            backup_retention_period=cfg.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protect_data,
            skip_final_snapshot=not args.keep_data_on_destroy,
            final_snapshot_identifier=snapshot_id if args.keep_data_on_destroy else None,
            # Kept after the instance is deleted, until their retention period ends: a
            # second way back besides the final snapshot.
            delete_automated_backups=not args.keep_data_on_destroy,
            # Unprotected stacks are for iterating: apply changes now, not at the next window.
            apply_immediately=not args.protect_data,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_data),
        )

        self.connection = DatabaseConnection(
            host=self.instance.address,
            port=PORT,
            name=DB_NAME,
            user=DB_USER,
            password=pulumi.Output.secret(cfg.password),
        )
        self.register_outputs({"address": self.instance.address})
