"""Every pod fits the node group it is pinned to, at the group's minimum size (issue #13, item 3).

Over the declared objects of each stack: the node groups (instance type, minimum size,
labels, taints) and every pod the program runs (Deployments at their replica count or their
autoscaler's minimum, one pod per CronJob, the Helm releases' pods, CoreDNS), packed
first-fit-decreasing onto the group's minimum number of nodes, each with what is left of
its allocatable capacity after the DaemonSets. A pod that does not fit would stay Pending
until the Cluster Autoscaler adds a node: on dev, every ETL run did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.pulumi_mocks import Deployment

# Allocatable capacity of an EKS node (AL2023 AMI), written down per type: kube-reserved CPU
# (6% of the first core, 1% of the second, 0.5% of the third and fourth), kube-reserved
# memory 255 MiB + 11 MiB per pod (max pods from the VPC CNI's ENI limits), eviction at
# 100 MiB free, of the ~94% of sold memory a node reports. t3.medium is what a real node
# reported (kubectl describe node: cpu 1930m, memory 3388360Ki).
ALLOCATABLE = {  # type: (millicores, MiB)
    "t3.medium": (1930, 3309),
    "t3a.medium": (1930, 3309),
    "t3.large": (1930, 6960),
    "t3.xlarge": (3920, 14407),
}
# DaemonSets EKS runs on every node, with their requests: aws-node (VPC CNI 25m and its
# network-policy agent 25m), kube-proxy 100m. No memory requests.
DAEMONSETS = (150, 0)
# Pods of EKS add-ons the program installs but does not declare as Kubernetes objects:
# CoreDNS, 2 replicas of 100m / 70Mi (the add-on's defaults), pinned to the system group.
ADDON_PODS = [("coredns-1", 100, 70), ("coredns-2", 100, 70)]
# Pods of Helm charts, per release: the chart's replica count (both charts: 1).
HELM_REPLICAS = 1
# Jobs that never run together (tests/workloads/test_jobs.py proves their windows apart).
EXCLUSIVE_JOBS = {frozenset({"etl", "maintenance"})}


@dataclass(frozen=True)
class Pod:
    name: str
    millicores: int
    memory_mib: int
    pool: str  # the lakehouse.io/pool value it is pinned to


def cpu(value: str | float | int) -> int:
    text = str(value)
    return int(text.removesuffix("m")) if text.endswith("m") else int(float(text) * 1000)


def mib(value: str) -> int:
    units = {"Mi": 1, "Gi": 1024}
    return int(value[:-2]) * units[value[-2:]]


def requests(pod_spec: dict[str, Any]) -> tuple[int, int]:
    """What the scheduler reserves: max(the largest init container, the sum of containers)."""

    def of(c: dict[str, Any]) -> tuple[int, int]:
        r = c.get("resources", {}).get("requests", {})
        return cpu(r.get("cpu", "0m")), mib(r.get("memory", "0Mi"))

    running = [of(c) for c in pod_spec["containers"]]
    init = [of(c) for c in pod_spec.get("initContainers", [])]
    return (
        max([sum(c for c, _ in running), *(c for c, _ in init)]),
        max([sum(m for _, m in running), *(m for _, m in init)]),
    )


def pool_of(pod_spec: dict[str, Any]) -> str:
    selector = pod_spec.get("nodeSelector") or {}
    if "lakehouse.io/pool" in selector:
        return selector["lakehouse.io/pool"]
    terms = pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    [expression] = terms["nodeSelectorTerms"][0]["matchExpressions"]
    assert expression["key"] == "lakehouse.io/pool" and expression["operator"] == "In"
    [value] = expression["values"]
    return value


def steady_pods(d: Deployment) -> list[Pod]:
    scaled = {
        h.manifest()["spec"]["scaleTargetRef"]["name"]: h.manifest()["spec"]["minReplicas"]
        for h in d.of_kind("HorizontalPodAutoscaler")
    }
    pods = []
    for obj in d.of_kind("Deployment") + d.of_kind("StatefulSet"):
        spec = obj.manifest()["spec"]
        replicas = scaled.get(obj.k8s_name, spec.get("replicas", 1))
        pod = spec["template"]["spec"]
        millicores, memory = requests(pod)
        pods += [
            Pod(f"{obj.k8s_name}-{i}", millicores, memory, pool_of(pod)) for i in range(replicas)
        ]
    for release in d.of_type("kubernetes:helm.sh/v3:Release"):
        values = release.inputs["values"]
        r = values["resources"]["requests"]
        pool = values["nodeSelector"]["lakehouse.io/pool"]
        for i in range(HELM_REPLICAS):
            pods.append(
                Pod(f"{release.inputs['chart']}-{i}", cpu(r["cpu"]), mib(r["memory"]), pool)
            )
    pods += [Pod(name, c, m, "system") for name, c, m in ADDON_PODS]
    return pods


def job_pods(d: Deployment) -> dict[str, Pod]:
    jobs = {}
    for obj in d.of_kind("CronJob"):
        pod = obj.manifest()["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        millicores, memory = requests(pod)
        jobs[obj.k8s_name] = Pod(obj.k8s_name, millicores, memory, pool_of(pod))
    return jobs


def job_sets(jobs: dict[str, Pod]) -> list[list[Pod]]:
    """Every largest set of jobs that can run at the same time."""
    names = set(jobs)
    sets = [names]
    for exclusive in EXCLUSIVE_JOBS:
        sets = [s - {drop} for s in sets for drop in exclusive if exclusive <= s] or sets
    return [[jobs[n] for n in sorted(s)] for s in sets]


@dataclass(frozen=True)
class Group:
    pool: str
    instance_type: str
    min_nodes: int


def node_groups(d: Deployment) -> list[Group]:
    groups = []
    for group in d.of_type("eks:index:ManagedNodeGroup"):
        inputs = group.inputs
        groups.append(
            Group(
                inputs["labels"]["lakehouse.io/pool"],
                inputs["instanceTypes"][0],
                int(inputs["scalingConfig"]["minSize"]),
            )
        )
    return groups


def unplaced(pods: list[Pod], group: Group) -> list[str]:
    """First-fit decreasing onto the group's minimum nodes; the pods that found no room."""
    millicores, memory = ALLOCATABLE[group.instance_type]
    free = [[millicores - DAEMONSETS[0], memory - DAEMONSETS[1]] for _ in range(group.min_nodes)]
    left = []
    for pod in sorted(pods, key=lambda p: (p.millicores, p.memory_mib), reverse=True):
        node = next((n for n in free if n[0] >= pod.millicores and n[1] >= pod.memory_mib), None)
        if node is None:
            left.append(pod.name)
        else:
            node[0] -= pod.millicores
            node[1] -= pod.memory_mib
    return left


def test_every_pod_is_pinned_to_a_declared_group(deployment: Deployment):
    pools = {g.pool for g in node_groups(deployment)}
    pods = steady_pods(deployment) + list(job_pods(deployment).values())
    assert {p.pool for p in pods} == pools == {"system", "spark"}


@pytest.mark.parametrize("pool", ["system", "spark"])
def test_every_pod_fits_its_group_at_the_minimum_size(deployment: Deployment, pool: str):
    [group] = [g for g in node_groups(deployment) if g.pool == pool]
    steady = [p for p in steady_pods(deployment) if p.pool == pool]
    for jobs in job_sets(job_pods(deployment)):
        pods = steady + [j for j in jobs if j.pool == pool]
        assert unplaced(pods, group) == [], (
            f"{deployment.stack}: on {group.min_nodes} x {group.instance_type} ({pool})"
        )


def test_the_check_can_fail():
    # Dev before the fix: one t3.large system node, and the ETL driver did not fit.
    group = Group("system", "t3.large", 1)
    steady = [Pod(n, 250, 1024, "system") for n in ("master", "history", "metastore")]
    steady += [Pod(n, 100, 70, "system") for n in ("coredns-1", "coredns-2")]
    assert unplaced(steady, group) == []
    assert len(unplaced([*steady, Pod("etl", 1000, 3968, "system")], group)) == 1


def test_exclusive_jobs_are_never_in_one_set():
    jobs = {n: Pod(n, 1, 1, "system") for n in ("etl", "maintenance", "generator")}
    sets = [{p.name for p in s} for s in job_sets(jobs)]
    assert sorted(map(sorted, sets)) == [["etl", "generator"], ["generator", "maintenance"]]
    assert not any({"etl", "maintenance"} <= s for s in sets)
