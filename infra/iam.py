"""IAM roles for service accounts (IRSA): one role per workload, scoped to named buckets.

A role trusts exactly one Kubernetes service account (namespace + name) through the
cluster's OIDC provider, and may only touch the buckets and actions its workload needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Flag, auto

import pulumi
import pulumi_aws as aws

from workloads import contract


class Access(Flag):
    """What a workload may do with the objects of one bucket (listing is always allowed)."""

    READ = auto()
    WRITE = auto()
    DELETE = auto()
    READ_WRITE = READ | WRITE | DELETE


_OBJECT_ACTIONS = {
    Access.READ: ["s3:GetObject"],
    # S3A writes large files as multipart uploads; it lists the parts of an upload and
    # aborts the ones a failed task or a committer left behind.
    Access.WRITE: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    Access.DELETE: ["s3:DeleteObject"],
}
_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation"]
# Bucket-level, for writers only: S3A lists pending uploads (on create, `hadoop s3guard
# uploads`, and to clean up after a failed job).
_WRITER_BUCKET_ACTIONS = ["s3:ListBucketMultipartUploads"]

# Which buckets each service account may use, and how. Executors run inside the worker
# pods (standalone mode), so the worker carries the executors' identity; the ETL driver
# (client mode, its own job pod) commits Iceberg metadata and writes event logs.
SPARK_ACCESS = {
    "input": Access.READ,
    "warehouse": Access.READ_WRITE,
    "processed": Access.READ_WRITE,
}
WORKLOAD_ACCESS: dict[str, dict[str, Access]] = {
    contract.SA_GENERATOR: {"input": Access.WRITE},
    contract.SA_SPARK_WORKER: SPARK_ACCESS,
    contract.SA_ETL: SPARK_ACCESS,
    # The metastore creates and drops namespace directories under the warehouse.
    contract.SA_METASTORE: {"warehouse": Access.READ_WRITE},
    # The History Server only reads the event logs the drivers write to processed/.
    contract.SA_SPARK_HISTORY: {"processed": Access.READ},
}


def irsa_trust_policy(
    oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_account: str
) -> str:
    """Trust policy letting exactly one service account assume the role via web identity."""
    issuer = oidc_provider_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        # StringEquals, not StringLike: no wildcard can widen it to other SAs.
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def bucket_access_policy(grants: dict[str, Access]) -> str:
    """Policy for {bucket ARN: access}: list the bucket, act on its objects, nothing else."""
    statements = []
    for bucket_arn, access in sorted(grants.items()):
        bucket_actions = _BUCKET_ACTIONS + (
            _WRITER_BUCKET_ACTIONS if Access.WRITE in access else []
        )
        statements.append({"Effect": "Allow", "Action": bucket_actions, "Resource": bucket_arn})
        actions = [a for flag, acts in _OBJECT_ACTIONS.items() if flag in access for a in acts]
        statements.append({"Effect": "Allow", "Action": actions, "Resource": f"{bucket_arn}/*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class IrsaRole(pulumi.ComponentResource):
    """An IAM role assumable by one Kubernetes service account, with one inline policy."""

    role: aws.iam.Role

    def __init__(
        self,
        name: str,
        *,
        oidc_provider_arn: pulumi.Input[str],
        oidc_provider_url: pulumi.Input[str],
        namespace: str,
        service_account: str,
        policy: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("lakehouse:infra:IrsaRole", name, None, opts)
        self.role = aws.iam.Role(
            name,
            assume_role_policy=pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(
                lambda a: irsa_trust_policy(a[0], a[1], namespace, service_account)
            ),
            description=f"IRSA role of {namespace}/{service_account}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"arn": self.role.arn})


@dataclass
class WorkloadIdentitiesArgs:
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    # "input" / "processed" / "warehouse" -> bucket ARN
    bucket_arns: dict[str, pulumi.Input[str]]


class WorkloadIdentities(pulumi.ComponentResource):
    role_arns: dict[str, pulumi.Output[str]]
    """Role ARN by service account name (the keys of workloads.contract's SA_* names)."""

    def __init__(
        self, name: str, args: WorkloadIdentitiesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("lakehouse:infra:WorkloadIdentities", name, None, opts)
        self.role_arns = {}
        for service_account, access in WORKLOAD_ACCESS.items():
            arns = [args.bucket_arns[bucket] for bucket in access]
            policy = pulumi.Output.all(*arns).apply(
                lambda resolved, access=access: bucket_access_policy(
                    dict(zip(resolved, access.values(), strict=True))
                )
            )
            role = IrsaRole(
                f"{name}-{service_account}",
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_provider_url=args.oidc_provider_url,
                namespace=contract.NAMESPACE,
                service_account=service_account,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=self),
            ).role
            self.role_arns[service_account] = role.arn
        self.register_outputs({"role_arns": self.role_arns})
