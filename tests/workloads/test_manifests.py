"""Every object the component declares is a valid Kubernetes object, in our namespace,
sent to the cluster's provider, and nothing is exposed outside the cluster."""

from __future__ import annotations

from collections import defaultdict

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest

from tests.pulumi_mocks import Deployment, deploy
from tests.workloads.conftest import PROVIDER_NAME, workloads_program
from workloads import contract

KUBERNETES_VERSION = "1.31"

EXPECTED_NAMED = {
    "Namespace": {contract.NAMESPACE},
    "Deployment": {"hive-metastore", "spark-master", "spark-worker", "spark-history"},
    "Service": {"hive-metastore", "spark-master", "spark-history"},
    "CronJob": {"etl", "generator", "maintenance"},
    "ServiceAccount": {
        contract.SA_METASTORE,
        contract.SA_SPARK_MASTER,
        contract.SA_SPARK_WORKER,
        contract.SA_ETL,
        contract.SA_GENERATOR,
        contract.SA_SPARK_HISTORY,
    },
    "PodDisruptionBudget": {"spark-worker"},
    "HorizontalPodAutoscaler": {"spark-worker"},
    "NetworkPolicy": {
        "default-deny",
        "allow-common-egress",
        "metastore-to-database",
        "metastore-from-spark",
        "master-from-spark",
        "workers-from-spark",
        "driver-from-spark",
        "maintenance-from-spark",
    },
}
# Auto-named (a changed one is replaced under a new name, which rolls its pods).
EXPECTED_COUNT = {"ConfigMap": 3, "Secret": 1}


def test_declares_exactly_the_expected_objects(deployment: Deployment) -> None:
    found: dict[str, set[str]] = defaultdict(set)
    for obj in deployment.kubernetes_objects():
        found[obj.kind].add(obj.k8s_name)
    assert {k: found[k] for k in EXPECTED_NAMED} == EXPECTED_NAMED
    assert {k: len(found[k]) for k in EXPECTED_COUNT} == EXPECTED_COUNT
    assert set(found) == set(EXPECTED_NAMED) | set(EXPECTED_COUNT)


def test_every_object_validates_against_the_kubernetes_schema(deployment: Deployment) -> None:
    failures = []
    for obj in deployment.kubernetes_objects():
        try:
            kubernetes_validate.validate(obj.manifest(), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj.kind}/{obj.k8s_name}: {exc}")
    assert not failures, "\n".join(failures)


def test_the_schema_check_would_catch_a_misspelled_field(deployment: Deployment) -> None:
    # Guards the check above: strict mode must reject a field Kubernetes does not know,
    # e.g. a snake_case key that slipped past pulumi-kubernetes' camelCase translation.
    manifest = deployment.named("Deployment", "spark-worker").manifest()
    manifest["spec"]["template"]["spec"]["termination_grace_period_seconds"] = 30
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_every_namespaced_object_is_in_the_lakehouse_namespace(deployment: Deployment) -> None:
    outside = [
        f"{o.kind}/{o.k8s_name}"
        for o in deployment.kubernetes_objects()
        if o.kind != "Namespace" and o.manifest()["metadata"].get("namespace") != contract.NAMESPACE
    ]
    assert not outside


def test_every_object_is_sent_to_the_clusters_provider(deployment: Deployment) -> None:
    # Without it an object would go to whatever cluster the default kubeconfig names.
    elsewhere = [
        f"{o.kind}/{o.k8s_name}"
        for o in deployment.kubernetes_objects()
        if f"pulumi:providers:kubernetes::{PROVIDER_NAME}::" not in o.provider
    ]
    assert not elsewhere


def test_every_resource_belongs_to_the_workloads_component(deployment: Deployment) -> None:
    root = next(r for r in deployment.resources if r.type == "lakehouse:workloads:Workloads")
    by_urn = {r.urn: r for r in deployment.resources}

    def under_root(urn: str) -> bool:
        while urn in by_urn:
            if urn == root.urn:
                return True
            urn = by_urn[urn].parent
        return False

    outside = [
        f"{r.type} {r.name}"
        for r in deployment.resources
        if r is not root and not r.type.startswith("pulumi:providers:") and not under_root(r.urn)
    ]
    assert not outside


def test_no_service_is_reachable_from_outside_the_cluster(deployment: Deployment) -> None:
    # UIs are reached by `kubectl port-forward`; no load balancer, no node port.
    types = {s.k8s_name: s.manifest()["spec"]["type"] for s in deployment.of_kind("Service")}
    assert set(types.values()) == {"ClusterIP"}


def test_everything_waits_for_what_the_component_depends_on() -> None:
    # infra/__main__.py makes Workloads depend on the node groups and CoreDNS; the
    # namespace carries that edge, and every other object is in the namespace.
    def program() -> None:
        nodes_ready = k8s.core.v1.ConfigMap("nodes-ready", data={"stand-in": "node groups"})
        workloads_program(opts=pulumi.ResourceOptions(depends_on=[nodes_ready]))()

    deployment = deploy(program)
    nodes = next(r for r in deployment.resources if r.name == "nodes-ready")
    namespace = deployment.named("Namespace", contract.NAMESPACE)
    assert nodes.urn in namespace.dependencies
    for obj in deployment.kubernetes_objects():
        if obj.kind != "Namespace" and obj is not nodes:
            assert namespace.urn in obj.dependencies, f"{obj.kind}/{obj.k8s_name}"
