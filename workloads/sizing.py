"""Container sizes: a Spark worker fills one spot node, and executors fit the worker.

A standalone worker offers `--cores` / `--memory` to the master; if the settings' executor
memory is larger than that offer, applications wait forever for executors. So the offer is
derived from the node type and the settings together, and a mismatch fails `pulumi preview`
with a message naming the setting, instead of a job that never starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ConfigError
from core.settings import SparkSettings


@dataclass(frozen=True)
class NodeType:
    vcpus: int
    memory_mib: int  # as sold (EC2 spec sheet)
    max_pods: int  # VPC CNI limit (ENIs x IPs per ENI); sets the kubelet's memory reserve


# Types a Spark node group is likely to use. Same size, other family (t3a, m6a...) → same row.
NODE_TYPES: dict[str, NodeType] = {
    "t3.medium": NodeType(2, 4096, 17),
    "t3a.medium": NodeType(2, 4096, 17),
    "t3.large": NodeType(2, 8192, 35),
    "t3a.large": NodeType(2, 8192, 35),
    "t3.xlarge": NodeType(4, 16384, 58),
    "t3a.xlarge": NodeType(4, 16384, 58),
    "t3.2xlarge": NodeType(8, 32768, 58),
    "t3a.2xlarge": NodeType(8, 32768, 58),
    **{f"{family}.large": NodeType(2, 8192, 29) for family in ("m5", "m5a", "m6i", "m6a", "m7i")},
    **{f"{family}.xlarge": NodeType(4, 16384, 58) for family in ("m5", "m5a", "m6i", "m6a", "m7i")},
    **{f"{family}.2xlarge": NodeType(8, 32768, 58) for family in ("m5", "m5a", "m6i", "m6a")},
    **{f"{family}.large": NodeType(2, 16384, 29) for family in ("r5", "r5a", "r6i")},
    **{f"{family}.xlarge": NodeType(4, 32768, 58) for family in ("r5", "r5a", "r6i")},
    **{f"{family}.xlarge": NodeType(4, 8192, 58) for family in ("c5", "c5a", "c6i")},
    **{f"{family}.2xlarge": NodeType(8, 16384, 58) for family in ("c5", "c5a", "c6i")},
}

# A node reports ~94% of the memory it is sold with as capacity (t3.medium: 3851 of 4096 MiB).
_CAPACITY_SHARE = 0.94
# EKS AMIs (AL2023 nodeadm, AL2 before it) reserve 255 MiB + 11 MiB per pod for the kubelet
# and the runtime, and evict below 100 MiB free.
_KUBE_RESERVED_BASE_MIB = 255
_KUBE_RESERVED_PER_POD_MIB = 11
_EVICTION_HARD_MIB = 100
# DaemonSets on every node: aws-node (VPC CNI + network policy agent), kube-proxy, and room
# for an EBS CSI node / pod identity agent. Their real usage, not only their requests.
DAEMONSET_MILLICORES = 250
DAEMONSET_MEMORY_MIB = 256

# Inside a worker container, next to its executors:
WORKER_DAEMON_HEAP_MIB = 192  # SPARK_DAEMON_MEMORY: the worker only tracks a few executors
_WORKER_DAEMON_NON_HEAP_MIB = 128  # metaspace, threads, Netty buffers
# Python workers (UDFs) run outside the JVM heap; one reserve per executor.
PYTHON_RESERVE_MIB = 256
# Spark's own default for memoryOverhead on Kubernetes and YARN: max(384 MiB, 10% of heap).
_OVERHEAD_MIN_MIB = 384
_OVERHEAD_SHARE = 0.10

_JVM_MEMORY = re.compile(r"^\s*(\d+)\s*(?:([kmgt])b?)?\s*$", re.IGNORECASE)
_UNIT_MIB = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def jvm_memory_mib(value: str, setting: str) -> int:
    """MiB in a JVM/Spark memory string ("2g", "512m", "3072k"); Spark reads no unit as MiB."""
    match = _JVM_MEMORY.match(value)
    if not match:
        raise ConfigError(f"setting '{setting}': {value!r} is not a memory size like 2g or 512m")
    number, unit = int(match.group(1)), (match.group(2) or "m").lower()
    # Spark reads a bare number as MiB (JavaUtils.byteStringAsMb), unlike -Xmx (bytes).
    return int(number * _UNIT_MIB[unit])


def overhead_mib(heap_mib: int) -> int:
    return max(_OVERHEAD_MIN_MIB, int(heap_mib * _OVERHEAD_SHARE))


def node_type(instance_type: str) -> NodeType:
    try:
        return NODE_TYPES[instance_type]
    except KeyError:
        known = ", ".join(sorted(NODE_TYPES))
        raise ConfigError(
            f"spark_instance_type {instance_type!r} is not in workloads/sizing.py NODE_TYPES "
            f"(known: {known}); add its vCPUs, memory and max pods there"
        ) from None


@dataclass(frozen=True)
class Allocatable:
    millicores: int
    memory_mib: int


def allocatable(node: NodeType) -> Allocatable:
    """What the kubelet lets pods request on an EKS node of this type."""
    # kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of the next two,
    # 0.25% of the rest (the EKS AMI formula).
    shares = [60, 10, 5, 5] + [2.5] * max(0, node.vcpus - 4)
    reserved_cpu = int(sum(shares[: node.vcpus]))
    capacity = int(node.memory_mib * _CAPACITY_SHARE)
    reserved_mem = (
        _KUBE_RESERVED_BASE_MIB + _KUBE_RESERVED_PER_POD_MIB * node.max_pods + _EVICTION_HARD_MIB
    )
    return Allocatable(node.vcpus * 1000 - reserved_cpu, capacity - reserved_mem)


@dataclass(frozen=True)
class PodSize:
    """Requests; memory is also the limit (a JVM over its limit is OOM-killed, not slowed)."""

    millicores: int
    memory_mib: int

    @property
    def cpu(self) -> str:
        return f"{self.millicores}m"

    @property
    def memory(self) -> str:
        return f"{self.memory_mib}Mi"


@dataclass(frozen=True)
class WorkerSize:
    pod: PodSize
    offered_cores: int  # Worker --cores
    offered_memory_mib: int  # Worker --memory: what its executors may take in total
    executors: int

    @property
    def offered_memory(self) -> str:
        return f"{self.offered_memory_mib}M"


def _round_down(value: int, step: int) -> int:
    return value // step * step


def worker_size(instance_type: str, spark: SparkSettings) -> WorkerSize:
    """One worker per node: the pod takes the node minus DaemonSets; executors fit inside."""
    node = node_type(instance_type)
    free = allocatable(node)
    pod = PodSize(
        millicores=_round_down(free.millicores - DAEMONSET_MILLICORES, 50),
        memory_mib=_round_down(free.memory_mib - DAEMONSET_MEMORY_MIB, 16),
    )
    heap = jvm_memory_mib(spark.executor_memory, "spark.executor_memory")
    per_executor = heap + overhead_mib(heap) + PYTHON_RESERVE_MIB
    room = pod.memory_mib - WORKER_DAEMON_HEAP_MIB - _WORKER_DAEMON_NON_HEAP_MIB
    if per_executor > room:
        largest = _largest_heap_fitting(room)
        raise ConfigError(
            f"setting 'spark.executor_memory': {spark.executor_memory} does not fit a "
            f"{instance_type} Spark worker ({pod.memory_mib} MiB for the worker, its "
            f"executor's overhead and Python); use at most {largest}m or a larger node type"
        )
    if spark.executor_cores > node.vcpus:
        raise ConfigError(
            f"setting 'spark.executor_cores': {spark.executor_cores} exceeds the "
            f"{node.vcpus} vCPUs of a {instance_type} Spark worker"
        )
    executors = min(room // per_executor, node.vcpus // spark.executor_cores)
    return WorkerSize(
        pod=pod,
        offered_cores=executors * spark.executor_cores,
        offered_memory_mib=executors * heap,
        executors=executors,
    )


def _largest_heap_fitting(room_mib: int) -> int:
    heap = room_mib - PYTHON_RESERVE_MIB - _OVERHEAD_MIN_MIB
    while heap > 0 and heap + overhead_mib(heap) + PYTHON_RESERVE_MIB > room_mib:
        heap -= 16
    return max(0, _round_down(heap, 64))


# The driver is a Python process (the CLI) plus its JVM, in the ETL job's pod.
_DRIVER_PYTHON_MIB = 512
_DRIVER_MILLICORES = 1000


def driver_size(spark: SparkSettings) -> PodSize:
    heap = jvm_memory_mib(spark.driver_memory, "spark.driver_memory")
    total = heap + overhead_mib(heap) + _DRIVER_PYTHON_MIB
    return PodSize(_DRIVER_MILLICORES, -(-total // 64) * 64)


# Fixed-size daemons (on the system node group). Heaps are set from the container limit
# (SPARK_DAEMON_MEMORY or -XX:MaxRAMPercentage), so limit and heap cannot disagree.
SPARK_MASTER = PodSize(250, 1024)
SPARK_MASTER_HEAP = "512m"
SPARK_HISTORY = PodSize(250, 1536)
SPARK_HISTORY_HEAP = "1g"
METASTORE = PodSize(250, 1024)
METASTORE_INIT = PodSize(250, 768)
GENERATOR = PodSize(500, 1024)
EVENT_LOG_INIT = PodSize(100, 256)  # one pyarrow call
