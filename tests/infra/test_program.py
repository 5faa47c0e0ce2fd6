"""What `pulumi up` hands to users (stack outputs) and to the Kubernetes workloads."""

from __future__ import annotations

import importlib.abc
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from tests.pulumi_mocks import (
    KUBECONFIG,
    MAIN,
    TEST_DB_PASSWORD,
    Deployment,
    Registered,
    run_program,
)
from workloads import contract

METASTORE_URI = "thrift://hive-metastore.lakehouse.svc.cluster.local:9083"


def bucket_name(d: Deployment, key: str) -> str:
    [b] = [
        b
        for b in d.of_type("aws:s3/bucket:Bucket")
        if b.inputs["bucketPrefix"].endswith(f"-{key}-")
    ]
    return b.outputs["bucket"]


def test_exports_what_a_user_needs(deployment: Deployment):
    exports = deployment.exports
    assert exports["kubeconfig"] == KUBECONFIG
    assert exports["clusterName"] == f"nginx-lakehouse-{deployment.stack}"
    assert exports["updateKubeconfigCommand"] == (
        f"aws eks update-kubeconfig --region us-east-1 --name nginx-lakehouse-{deployment.stack}"
    )
    for key in ("input", "processed", "warehouse"):
        assert exports[f"{key}Bucket"] == bucket_name(deployment, key)
    assert exports["metastoreUri"] == METASTORE_URI
    assert exports["sparkUiCommand"] == (
        "kubectl -n lakehouse port-forward svc/spark-master 8080:8080"
    )
    rds = deployment.one("aws:rds/instance:Instance")
    assert exports["metastoreDbEndpoint"] == rds.outputs["endpoint"]


# --- the hand-over to workloads.stack --------------------------------------------------


def fake_workloads_stack() -> types.ModuleType:
    """A stand-in for workloads/stack.py with the agreed interface (no DatabaseConnection).

    It records everything it receives as the inputs of one child resource, so the
    recording monitor shows values, secrecy and dependencies.
    """

    @dataclass
    class WorkloadsArgs:
        provider: Any
        settings: Any
        images: Any
        role_arns: Any
        database: Any
        spark_instance_type: Any
        spark_min_workers: Any
        spark_max_workers: Any
        environment: Any

    class Workloads(pulumi.ComponentResource):
        def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions):
            super().__init__("test:workloads:Workloads", name, None, opts)
            db = args.database
            pulumi.CustomResource(
                "test:workloads:Handover",
                f"{name}-handover",
                {
                    "settings": args.settings.apply(lambda s: s.model_dump(mode="json")),
                    "images": args.images,
                    "roleArns": args.role_arns,
                    "database": {
                        "host": db.host,
                        "port": db.port,
                        "name": db.name,
                        "user": db.user,
                    },
                    "dbPassword": db.password,
                    "sparkInstanceType": args.spark_instance_type,
                    "sparkWorkers": [args.spark_min_workers, args.spark_max_workers],
                    "environment": args.environment,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )

    module = types.ModuleType("workloads.stack")
    module.Workloads = Workloads  # type: ignore[attr-defined]
    module.WorkloadsArgs = WorkloadsArgs  # type: ignore[attr-defined]
    return module


@pytest.fixture(scope="module")
def wired() -> Iterator[Deployment]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "workloads.stack", fake_workloads_stack())
        yield run_program("dev")


@pytest.fixture(scope="module")
def handover(wired: Deployment) -> Registered:
    return wired.one("test:workloads:Handover")


def test_workloads_use_the_clusters_kubernetes_provider(wired: Deployment):
    component = wired.one("test:workloads:Workloads")
    provider = wired.one("pulumi:providers:kubernetes")
    assert component.providers["kubernetes"].startswith(provider.urn)


def test_workloads_wait_for_both_node_groups_and_dns(wired: Deployment):
    component = wired.one("test:workloads:Workloads")
    for waited_for in (
        wired.one("eks:index:ManagedNodeGroup", "eks-system"),
        wired.one("eks:index:ManagedNodeGroup", "eks-spark"),
        wired.one("aws:eks/addon:Addon", "eks-coredns"),
    ):
        assert waited_for.urn in component.dependencies


def test_workloads_get_aws_runtime_settings_for_this_stacks_buckets(wired, handover):
    settings = handover.inputs["settings"]
    assert settings["runtime"] == "aws"
    assert settings["storage"]["input_uri"] == f"s3://{bucket_name(wired, 'input')}"
    assert settings["storage"]["processed_uri"] == f"s3://{bucket_name(wired, 'processed')}"
    assert settings["storage"]["warehouse_uri"] == (
        f"s3://{bucket_name(wired, 'warehouse')}/warehouse"
    )
    assert settings["storage"]["s3"]["region"] == "us-east-1"
    assert settings["catalog"]["uri"] == METASTORE_URI
    assert settings["spark"]["master"] == "spark://spark-master.lakehouse.svc.cluster.local:7077"


def test_workloads_get_the_stacks_lakehouse_settings():
    # The settings ConfigMap is rendered from this object (tests/workloads/test_single_source).
    overrides = {
        "logFormat": "main",
        "clientIp": "truncate",
        "retentionAccessLogsDays": 30,
        "slowRequestMs": 500,
        "siteHosts": ["example.com"],
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "workloads.stack", fake_workloads_stack())
        handover = run_program("dev", overrides).one("test:workloads:Handover")
    settings = handover.inputs["settings"]
    assert settings["etl"]["log_format"] == "main"
    assert settings["etl"]["client_ip"] == "truncate"
    assert settings["retention"]["access_logs_days"] == 30
    assert settings["retention"]["reports_days"] is None  # 0: kept forever
    assert settings["etl"]["slow_request_seconds"] == 0.5
    assert settings["reports"]["site_hosts"] == ["example.com"]


def test_workloads_get_images_by_digest(wired: Deployment, handover: Registered):
    assert handover.inputs["images"] == wired.exports["images"]
    assert set(handover.inputs["images"]) == {"spark", "metastore", "generator"}
    assert all("@sha256:" in ref for ref in handover.inputs["images"].values())


def test_workloads_get_one_role_per_service_account(wired: Deployment, handover: Registered):
    role_arns = handover.inputs["roleArns"]
    assert set(role_arns) == {
        contract.SA_SPARK_WORKER,
        contract.SA_ETL,
        contract.SA_GENERATOR,
        contract.SA_METASTORE,
        contract.SA_SPARK_HISTORY,
    }
    for service_account, arn in role_arns.items():
        assert arn == wired.one("aws:iam/role:Role", f"irsa-{service_account}").outputs["arn"]


def test_workloads_get_the_database_with_a_secret_password(wired, handover):
    rds = wired.one("aws:rds/instance:Instance")
    assert handover.inputs["database"] == {
        "host": rds.outputs["address"],
        "port": 5432,
        "name": "metastore",
        "user": "hive",
    }
    assert handover.inputs["dbPassword"] == TEST_DB_PASSWORD
    assert "dbPassword" in handover.secret_inputs


def test_workloads_size_executors_for_the_first_spark_instance_type(handover: Registered):
    assert handover.inputs["sparkInstanceType"] == "t3.medium"
    assert handover.inputs["environment"] == "dev"


def test_the_program_imports_the_workloads_plainly():
    # Issue #17: no importlib, no sys.path edits, no optional workloads silently skipped.
    source = MAIN.read_text()
    assert "importlib" not in source
    assert "sys.path" not in source
    assert "noqa" not in source
    assert "from workloads.stack import Workloads, WorkloadsArgs" in source


class _BrokenWorkloads(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "workloads.stack":
            raise ModuleNotFoundError("No module named 'kubernetes_thing'", name="kubernetes_thing")


def test_a_broken_workloads_stack_fails_the_program_instead_of_being_skipped():
    with pytest.MonkeyPatch.context() as mp:
        mp.delitem(sys.modules, "workloads.stack", raising=False)
        mp.setattr(sys, "meta_path", [_BrokenWorkloads(), *sys.meta_path])
        with pytest.raises(ModuleNotFoundError, match="kubernetes_thing"):
            run_program("dev")


def test_the_real_workloads_component_is_deployed_after_the_nodes(deployment: Deployment):
    component = deployment.one("lakehouse:workloads:Workloads")
    provider = deployment.one("pulumi:providers:kubernetes")
    assert component.providers["kubernetes"].startswith(provider.urn)
    system = deployment.one("eks:index:ManagedNodeGroup", "eks-system")
    assert system.urn in component.dependencies


def test_every_kubernetes_object_goes_to_this_stacks_cluster(deployment: Deployment):
    # The default provider would use whatever cluster the ambient kubeconfig points at, and
    # `pulumi destroy` could not order those objects before the cluster.
    provider = deployment.one("pulumi:providers:kubernetes")
    objects = [r for r in deployment.resources if r.custom and r.type.startswith("kubernetes:")]
    assert objects
    assert [o.name for o in objects if not o.provider.startswith(provider.urn)] == []


def test_workloads_scale_workers_over_the_spark_node_groups_range(handover: Registered):
    # Pulumi.yaml defaults (dev sets neither): one worker per spot node, 3 to 6.
    assert handover.inputs["sparkWorkers"] == [3, 6]


def test_s3a_authenticates_with_the_web_identity_provider_only(handover: Registered):
    # IRSA's token and role; not the SDK's shared default-chain instance (issue #13, item 5).
    conf = handover.inputs["settings"]["spark"]["conf"]
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"] == (
        "software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider"
    )
