"""IRSA: one role per workload, trusted by its own service account, scoped to its buckets."""

from __future__ import annotations

import pytest

from tests.pulumi_mocks import OIDC_ARN, Deployment, Registered, policy_statements
from workloads import contract

ROLE = "aws:iam/role:Role"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/MOCKOIDC"

LIST = {"s3:ListBucket", "s3:GetBucketLocation"}
READ = {"s3:GetObject"}
# S3A's multipart writes: upload, list an upload's parts, abort it (issue #13, item 5).
WRITE = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
LIST_UPLOADS = {"s3:ListBucketMultipartUploads"}  # bucket-level, writers only
DELETE = {"s3:DeleteObject"}

# The access matrix, written out by hand: bucket -> object actions, per service account.
EXPECTED_ACCESS = {
    contract.SA_GENERATOR: {"input": WRITE},
    contract.SA_SPARK_WORKER: {
        "input": READ,
        "processed": READ | WRITE | DELETE,
        "warehouse": READ | WRITE | DELETE,
    },
    contract.SA_ETL: {
        "input": READ,
        "processed": READ | WRITE | DELETE,
        "warehouse": READ | WRITE | DELETE,
    },
    contract.SA_METASTORE: {"warehouse": READ | WRITE | DELETE},
    contract.SA_SPARK_HISTORY: {"processed": READ},
}


def workload_role(d: Deployment, service_account: str) -> Registered:
    return d.one(ROLE, f"irsa-{service_account}")


def inline_policy(d: Deployment, role: Registered) -> list[dict]:
    [policy] = [
        p for p in d.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id
    ]
    return policy_statements(policy.inputs["policy"])


def bucket_arns(d: Deployment) -> dict[str, str]:
    return {
        key: b.outputs["arn"]
        for b in d.of_type("aws:s3/bucket:Bucket")
        for key in ("input", "processed", "warehouse")
        if b.inputs["bucketPrefix"].endswith(f"-{key}-")
    }


def test_one_role_per_workload_service_account_and_none_for_the_master(deployment: Deployment):
    workload_roles = {r.name for r in deployment.of_type(ROLE) if r.name.startswith("irsa-")}
    assert workload_roles == {f"irsa-{sa}" for sa in EXPECTED_ACCESS}
    assert contract.SA_SPARK_MASTER not in {n.removeprefix("irsa-") for n in workload_roles}


@pytest.mark.parametrize("service_account", sorted(EXPECTED_ACCESS))
def test_role_is_assumable_only_by_its_own_service_account(deployment, service_account: str):
    [statement] = policy_statements(
        workload_role(deployment, service_account).inputs["assumeRolePolicy"]
    )
    assert statement["Principal"] == {"Federated": OIDC_ARN}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": f"system:serviceaccount:{contract.NAMESPACE}:{service_account}",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


@pytest.mark.parametrize("service_account", sorted(EXPECTED_ACCESS))
def test_role_touches_only_its_buckets_with_only_its_actions(deployment, service_account: str):
    arns = bucket_arns(deployment)
    statements = inline_policy(deployment, workload_role(deployment, service_account))
    granted: dict[str, set[str]] = {}
    for s in statements:
        assert s["Effect"] == "Allow"
        for resource in s["Resource"]:
            granted.setdefault(resource, set()).update(s["Action"])

    expected = {}
    for key, object_actions in EXPECTED_ACCESS[service_account].items():
        expected[arns[key]] = LIST | (LIST_UPLOADS if object_actions >= WRITE else set())
        expected[f"{arns[key]}/*"] = object_actions
    assert granted == expected


def test_role_arns_are_exported_by_service_account_name(deployment: Deployment):
    exported = deployment.exports["roleArns"]
    assert exported == {sa: workload_role(deployment, sa).outputs["arn"] for sa in EXPECTED_ACCESS}


def test_node_role_is_for_ec2_and_carries_only_the_eks_node_policies(deployment: Deployment):
    role = deployment.one(ROLE, "eks-node-role")
    [statement] = policy_statements(role.inputs["assumeRolePolicy"])
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {
        a.inputs["policyArn"]
        for a in deployment.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"]
    }
    assert attached == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    }
    # No inline policy either: pods get data access through IRSA only.
    inline = [p for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy")]
    assert role.id not in {p.inputs["role"] for p in inline}
