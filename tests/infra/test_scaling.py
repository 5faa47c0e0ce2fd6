"""The Spark workers' range is the spot node group's range (sparkMinNodes..sparkMaxNodes)."""

from __future__ import annotations

from tests.pulumi_mocks import Deployment, run_program


def worker_range(d: Deployment) -> tuple[int, int]:
    spec = d.named("HorizontalPodAutoscaler", "spark-worker").manifest()["spec"]
    return spec["minReplicas"], spec["maxReplicas"]


def node_range(d: Deployment) -> tuple[int, int]:
    scaling = d.one("eks:index:ManagedNodeGroup", "eks-spark").inputs["scalingConfig"]
    return scaling["minSize"], scaling["maxSize"]


def test_one_worker_per_spot_node_over_the_whole_range(deployment: Deployment):
    assert worker_range(deployment) == node_range(deployment) == (3, 6)


def test_metrics_server_is_installed_on_the_system_group(deployment: Deployment):
    # The HorizontalPodAutoscaler's CPU metric comes from it; EKS ships none.
    release = deployment.one("kubernetes:helm.sh/v3:Release", "cluster-autoscaler-metrics-server")
    assert release.inputs["chart"] == "metrics-server"
    assert release.inputs["version"] == "3.12.2"
    assert release.inputs["values"]["nodeSelector"] == {"lakehouse.io/pool": "system"}


def test_workers_follow_a_changed_spark_node_range():
    d = run_program("prod", overrides={"sparkMinNodes": 2, "sparkMaxNodes": 5})
    hpa = d.named("HorizontalPodAutoscaler", "spark-worker").manifest()["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 5)
    spark = d.one("eks:index:ManagedNodeGroup", "eks-spark").inputs["scalingConfig"]
    assert (spark["minSize"], spark["maxSize"]) == (2, 5)
