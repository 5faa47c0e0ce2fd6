"""Only Spark workers run on the spot node group; everything else stays on the system group
(docs/decisions/0008): a spot reclaim never takes a driver, the master or the catalog."""

from __future__ import annotations

from tests.pulumi_mocks import Deployment
from tests.workloads.pods import pod_of
from workloads import contract

SPOT_TOLERATION = {
    "key": contract.SPARK_TAINT_KEY,
    "operator": "Equal",
    "value": contract.SPARK_TAINT_VALUE,
    "effect": contract.SPARK_TAINT_EFFECT,
}


def test_workers_tolerate_exactly_the_spot_taint(deployment: Deployment) -> None:
    pod = pod_of(deployment, "Deployment", "spark-worker")
    assert pod["tolerations"] == [SPOT_TOLERATION]


def test_workers_require_the_spot_pool_label(deployment: Deployment) -> None:
    # The toleration lets a worker onto spot nodes; only the affinity keeps it off others.
    affinity = pod_of(deployment, "Deployment", "spark-worker")["affinity"]["nodeAffinity"]
    required = affinity["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": contract.POOL_LABEL, "operator": "In", "values": [contract.SPARK_POOL]}
                ]
            }
        ]
    }


def test_workers_prefer_one_per_node(deployment: Deployment) -> None:
    anti = pod_of(deployment, "Deployment", "spark-worker")["affinity"]["podAntiAffinity"]
    term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "spark-worker"


def test_every_other_pod_runs_on_the_system_group_and_tolerates_nothing(
    deployment: Deployment,
) -> None:
    others = [(o, p) for o, p in deployment.pod_specs() if o.k8s_name != "spark-worker"]
    assert {o.k8s_name for o, _ in others} == {
        "hive-metastore",
        "spark-master",
        "spark-history",
        "etl",
        "generator",
        "maintenance",
    }
    for obj, pod in others:
        assert pod["nodeSelector"] == {contract.POOL_LABEL: contract.SYSTEM_POOL}, obj.k8s_name
        assert "tolerations" not in pod, obj.k8s_name


def test_replicas_one_master_three_workers_one_metastore(deployment: Deployment) -> None:
    # Workers: at least as many as the autoscaler's minimum (it owns their count).
    scaled = {
        h.manifest()["spec"]["scaleTargetRef"]["name"]: h.manifest()["spec"]["minReplicas"]
        for h in deployment.of_kind("HorizontalPodAutoscaler")
    }
    replicas = {
        d.k8s_name: scaled.get(d.k8s_name, d.manifest()["spec"].get("replicas"))
        for d in deployment.of_kind("Deployment")
    }
    assert replicas == {
        "spark-master": 1,
        "spark-worker": 3,
        "hive-metastore": 1,
        "spark-history": 1,
    }


def test_voluntary_disruptions_take_one_worker_at_a_time(deployment: Deployment) -> None:
    budget = deployment.named("PodDisruptionBudget", "spark-worker").manifest()["spec"]
    workers = deployment.named("Deployment", "spark-worker").manifest()["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"] == workers["selector"]
    # A crash-looping worker must not block draining its node.
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    # A worker fills its node: a rollout never surges a fourth one onto the pool.
    assert workers["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
