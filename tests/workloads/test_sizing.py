"""Worker sizing: a worker fills one node and its executors fit inside it, or the
deployment stops with a message naming the setting."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import SparkSettings
from workloads import sizing


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("2g", 2048),
        ("2G", 2048),
        ("512m", 512),
        ("3072k", 3),
        ("1024", 1024),
        ("2gb", 2048),
        ("1t", 1048576),
    ],
)
def test_jvm_memory_strings_are_read_as_spark_reads_them(text: str, mib: int) -> None:
    assert sizing.jvm_memory_mib(text, "spark.executor_memory") == mib


@pytest.mark.parametrize("text", ["", "2 gigs", "-1g", "1.5g", "2b"])
def test_unreadable_memory_fails_naming_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match=r"setting 'spark\.executor_memory'"):
        sizing.jvm_memory_mib(text, "spark.executor_memory")


def test_t3_medium_allocatable_matches_what_eks_reports() -> None:
    # kubectl describe node on EKS: cpu 1930m, memory 3388360Ki (3309 MiB).
    free = sizing.allocatable(sizing.node_type("t3.medium"))
    assert free.millicores == 1930
    assert abs(free.memory_mib - 3309) <= 8


def test_the_default_executor_fits_a_t3_medium_worker() -> None:
    size = sizing.worker_size("t3.medium", SparkSettings(executor_memory="2g", executor_cores=1))
    assert size.executors == 1
    assert (size.offered_cores, size.offered_memory_mib) == (1, 2048)
    assert size.pod.memory_mib >= (
        2048 + sizing.overhead_mib(2048) + sizing.PYTHON_RESERVE_MIB + sizing.WORKER_DAEMON_HEAP_MIB
    )


def test_two_core_executors_use_both_vcpus() -> None:
    size = sizing.worker_size("t3.medium", SparkSettings(executor_memory="2g", executor_cores=2))
    assert size.offered_cores == 2


def test_executors_are_packed_up_to_cores_and_memory() -> None:
    size = sizing.worker_size("m5.xlarge", SparkSettings(executor_memory="2g", executor_cores=1))
    assert size.executors == 4  # 4 vCPUs; memory would allow more
    assert size.offered_memory_mib == 4 * 2048


def test_an_executor_larger_than_the_node_fails_with_the_largest_that_fits() -> None:
    with pytest.raises(ConfigError, match=r"spark.executor_memory.*3g.*at most 2048m"):
        sizing.worker_size("t3.medium", SparkSettings(executor_memory="3g"))


def test_more_executor_cores_than_vcpus_fails() -> None:
    with pytest.raises(ConfigError, match=r"spark\.executor_cores"):
        sizing.worker_size("t3.medium", SparkSettings(executor_memory="1g", executor_cores=4))


def test_an_unknown_instance_type_fails_naming_the_table() -> None:
    with pytest.raises(ConfigError, match=r"'t9\.huge' is not in workloads/sizing\.py"):
        sizing.node_type("t9.huge")


def test_driver_pod_holds_heap_overhead_and_python() -> None:
    size = sizing.driver_size(SparkSettings(driver_memory="3g"))
    assert size.memory_mib >= 3072 + 384 + 512
    assert size.memory_mib % 64 == 0
