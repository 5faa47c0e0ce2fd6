"""Spark workers really scale between sparkMinNodes and sparkMaxNodes (issue #13, item 2).

Executors are processes inside the worker pods, so a pending executor never asks the
Cluster Autoscaler for a node: the worker count itself must change. A HorizontalPodAutoscaler
on the workers' CPU does it; each worker fills a spot node, so a new one is Pending until
the Cluster Autoscaler adds a node; scale-down deletes workers one at a time and each runs
its decommission preStop hook first.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import SparkSettings
from tests.pulumi_mocks import Deployment, deploy
from tests.workloads.conftest import workloads_program
from tests.workloads.pods import container, pod_of
from workloads import sizing


def hpa(d: Deployment) -> dict[str, Any]:
    return d.named("HorizontalPodAutoscaler", "spark-worker").manifest()["spec"]


def test_an_autoscaler_owns_the_worker_count(deployment: Deployment) -> None:
    spec = hpa(deployment)
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "spark-worker",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 6)
    # A fixed count in the Deployment would be re-applied (and fight the autoscaler) on
    # every `pulumi up`.
    assert "replicas" not in deployment.named("Deployment", "spark-worker").manifest()["spec"]


def test_bounds_come_from_the_arguments() -> None:
    d = deploy(workloads_program(spark_min_workers=2, spark_max_workers=5))
    assert (hpa(d)["minReplicas"], hpa(d)["maxReplicas"]) == (2, 5)


def test_bad_bounds_fail_before_anything_is_created() -> None:
    with pytest.raises(ConfigError, match="spark_min_workers"):
        deploy(workloads_program(spark_min_workers=4, spark_max_workers=3))


def test_workers_scale_on_their_cpu(deployment: Deployment) -> None:
    [metric] = hpa(deployment)["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    target = metric["resource"]["target"]
    assert target["type"] == "Utilization"
    # Reachable by a busy worker: one executor core busy of the worker's CPU request.
    worker = container(deployment, "Deployment", "spark-worker", "worker")
    request = int(worker["resources"]["requests"]["cpu"].removesuffix("m"))
    busy = 1000 * 100 // request
    assert 0 < target["averageUtilization"] < busy


def test_scale_down_takes_one_worker_at_a_time_after_its_decommission(
    deployment: Deployment,
) -> None:
    down = hpa(deployment)["behavior"]["scaleDown"]
    [policy] = down["policies"]
    assert (policy["type"], policy["value"]) == ("Pods", 1)
    pod = pod_of(deployment, "Deployment", "spark-worker")
    assert policy["periodSeconds"] >= pod["terminationGracePeriodSeconds"]
    assert down["stabilizationWindowSeconds"] >= 300  # a pause between stages keeps workers
    # What each removed worker runs before it stops: the decommission signal.
    hook = container(deployment, "Deployment", "spark-worker", "worker")["lifecycle"]["preStop"]
    assert "kill -s PWR 1" in hook["exec"]["command"][-1]


@pytest.mark.parametrize("instance_type", ["t3.medium", "m5.large", "m5.xlarge", "r5.large"])
def test_one_worker_per_spot_node(instance_type: str) -> None:
    # Two workers never fit one node, so each new worker asks the autoscaler for a node.
    node = sizing.node_type(instance_type)
    free = sizing.allocatable(node)
    pod = sizing.worker_size(instance_type, SparkSettings(executor_memory="1g")).pod
    assert 2 * pod.millicores > free.millicores or 2 * pod.memory_mib > free.memory_mib


@pytest.mark.parametrize("name", ["spark-master", "hive-metastore"])
def test_the_autoscaler_does_not_evict_the_master_or_the_metastore(
    deployment: Deployment, name: str
) -> None:
    template = deployment.named("Deployment", name).manifest()["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false"


def test_a_running_application_may_take_the_new_workers_cores(deployment: Deployment) -> None:
    # Standalone gives a running application the cores of workers that register later only
    # while spark.cores.max is unset (it defaults to "all").
    for config_map in deployment.of_kind("ConfigMap"):
        for text in config_map.manifest()["data"].values():
            assert "spark.cores.max" not in text
    for obj, pod in deployment.pod_specs():
        for c in pod["containers"]:
            for variable in c.get("env", []):
                assert "spark.cores.max" not in str(variable.get("value", "")), obj.k8s_name
