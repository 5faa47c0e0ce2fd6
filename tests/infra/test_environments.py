"""dev is cheap and disposable; prod is highly available and keeps its data."""

from __future__ import annotations

from collections import Counter

from tests.pulumi_mocks import Deployment


def count(d: Deployment, type_: str) -> int:
    return len(d.of_type(type_))


def test_same_architecture_in_both_stacks(dev: Deployment, prod: Deployment):
    assert {r.type for r in dev.resources} == {r.type for r in prod.resources}
    assert {r.name for r in dev.resources} <= {r.name for r in prod.resources}


def test_dev_shares_one_nat_gateway_prod_has_one_per_az(dev: Deployment, prod: Deployment):
    assert count(dev, "aws:ec2/natGateway:NatGateway") == 1
    assert count(prod, "aws:ec2/natGateway:NatGateway") == 3
    assert count(dev, "aws:ec2/eip:Eip") == 1
    assert count(prod, "aws:ec2/eip:Eip") == 3


def test_only_dev_buckets_are_deleted_with_their_contents(dev: Deployment, prod: Deployment):
    buckets = "aws:s3/bucket:Bucket"
    assert [b.inputs["forceDestroy"] for b in dev.of_type(buckets)] == [True] * 3
    assert [b.inputs["forceDestroy"] for b in prod.of_type(buckets)] == [False] * 3


def test_only_dev_repositories_are_deleted_with_their_images(dev: Deployment, prod: Deployment):
    repos = "aws:ecr/repository:Repository"
    assert [r.inputs["forceDelete"] for r in dev.of_type(repos)] == [True] * 3
    assert [r.inputs["forceDelete"] for r in prod.of_type(repos)] == [False] * 3


def test_prod_database_is_multi_az(dev: Deployment, prod: Deployment):
    instance = "aws:rds/instance:Instance"
    assert dev.one(instance).inputs["multiAz"] is False
    assert prod.one(instance).inputs["multiAz"] is True
    assert prod.one(instance).inputs["instanceClass"] == "db.t4g.small"


def test_prod_keeps_an_audit_trail_of_the_control_plane(dev: Deployment, prod: Deployment):
    cluster = "eks:index:Cluster"
    assert dev.one(cluster).inputs["enabledClusterLogTypes"] == []
    assert prod.one(cluster).inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]


def test_prod_spreads_spark_over_more_spot_pools(dev: Deployment, prod: Deployment):
    def spark_types(d: Deployment) -> list[str]:
        return d.one("eks:index:ManagedNodeGroup", "eks-spark").inputs["instanceTypes"]

    assert len(spark_types(prod)) > len(spark_types(dev)) >= 1


def test_system_group_has_room_for_a_spare_node_in_prod(dev: Deployment, prod: Deployment):
    def scaling(d: Deployment) -> dict:
        return d.one("eks:index:ManagedNodeGroup", "eks-system").inputs["scalingConfig"]

    assert scaling(dev) == {"minSize": 1, "desiredSize": 1, "maxSize": 2}
    assert scaling(prod) == {"minSize": 2, "desiredSize": 2, "maxSize": 3}


def test_stacks_differ_only_in_nat_and_eip_counts(dev: Deployment, prod: Deployment):
    difference = Counter(r.type for r in prod.resources)
    difference.subtract(Counter(r.type for r in dev.resources))
    assert +difference == {"aws:ec2/natGateway:NatGateway": 2, "aws:ec2/eip:Eip": 2}
