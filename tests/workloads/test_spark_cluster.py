"""Spark standalone: master and History Server on the system group; workers sized to their
spot node and decommissioned gracefully (SIGPWR) before the node goes."""

from __future__ import annotations

import re

from core.properties import spark_conf
from core.settings import Settings
from tests.pulumi_mocks import Deployment, deploy
from tests.workloads.conftest import workloads_program
from tests.workloads.pods import container, env, pod_of
from workloads import sizing
from workloads.spark_cluster import DECOMMISSION_WAIT_SECONDS

AWS_SPOT_NOTICE_SECONDS = 120


def worker_args(deployment: Deployment) -> dict[str, str]:
    args = container(deployment, "Deployment", "spark-worker", "worker")["args"]
    return dict(zip(args[:-1:2], args[1:-1:2], strict=True))


def test_master_is_one_pod_replaced_not_surged(deployment: Deployment) -> None:
    spec = deployment.named("Deployment", "spark-master").manifest()["spec"]
    assert spec["replicas"] == 1
    # Two live masters would split the workers between them.
    assert spec["strategy"] == {"type": "Recreate"}


def test_spark_daemons_bind_rpc_to_the_pod_ip_but_not_the_ui(deployment: Deployment) -> None:
    # SPARK_LOCAL_IP would also bind the web UI to the pod IP, out of port-forward's reach.
    for name, container_name in [("spark-master", "master"), ("spark-worker", "worker")]:
        process = container(deployment, "Deployment", name, container_name)
        assert process["args"][:2] == ["--host", "$(POD_IP)"], name
        assert env(process)["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}, name
        assert "SPARK_LOCAL_IP" not in env(process), name


def test_workers_decommission_on_sigpwr_before_they_stop(deployment: Deployment) -> None:
    pod = pod_of(deployment, "Deployment", "spark-worker")
    [worker] = pod["containers"]
    hook = worker["lifecycle"]["preStop"]["exec"]["command"]
    assert hook[:2] == ["/bin/sh", "-c"]
    # PID 1 is the image's tini, which forwards the signal to the worker JVM.
    assert worker["command"][:3] == ["/usr/bin/tini", "--", "/opt/spark/bin/spark-class"]
    assert re.match(r"kill -s PWR 1\b", hook[2])
    assert f"-lt {DECOMMISSION_WAIT_SECONDS} " in hook[2]
    # The hook's wait fits the grace period, and both fit EC2's two-minute spot notice.
    grace = pod["terminationGracePeriodSeconds"]
    assert DECOMMISSION_WAIT_SECONDS < grace <= AWS_SPOT_NOTICE_SECONDS


def test_decommissioning_is_enabled_in_the_spark_defaults_the_workers_read(
    settings: Settings,
) -> None:
    conf = spark_conf(settings)
    for key in (
        "spark.decommission.enabled",
        "spark.storage.decommission.enabled",
        "spark.storage.decommission.shuffleBlocks.enabled",
        "spark.storage.decommission.rddBlocks.enabled",
    ):
        assert conf[key] == "true", key


def test_workers_fill_a_t3_medium_and_offer_what_executors_need(
    deployment: Deployment, settings: Settings
) -> None:
    worker = container(deployment, "Deployment", "spark-worker", "worker")
    requests = worker["resources"]["requests"]
    free = sizing.allocatable(sizing.NODE_TYPES["t3.medium"])
    # EKS reports 1930m / ~3309Mi allocatable on a t3.medium; DaemonSets need room too.
    assert free == sizing.Allocatable(millicores=1930, memory_mib=3308)
    cpu, memory = int(requests["cpu"].removesuffix("m")), int(requests["memory"].removesuffix("Mi"))
    assert cpu <= free.millicores - sizing.DAEMONSET_MILLICORES
    assert memory <= free.memory_mib - sizing.DAEMONSET_MEMORY_MIB
    assert cpu >= 1500 and memory >= 2900  # and it still takes most of the node
    args = worker_args(deployment)
    executor = sizing.jvm_memory_mib(settings.spark.executor_memory, "x")
    assert int(args["--memory"].removesuffix("M")) >= executor
    assert int(args["--cores"]) >= settings.spark.executor_cores
    assert env(worker)["SPARK_DAEMON_MEMORY"] == f"{sizing.WORKER_DAEMON_HEAP_MIB}m"


def test_a_larger_node_type_gets_a_larger_worker(deployment: Deployment) -> None:
    large = deploy(workloads_program(spark_instance_type="m5.xlarge"))
    small_mem = container(deployment, "Deployment", "spark-worker", "worker")["resources"]
    big_mem = container(large, "Deployment", "spark-worker", "worker")["resources"]
    assert int(big_mem["requests"]["memory"][:-2]) > 4 * int(small_mem["requests"]["memory"][:-2])
    assert worker_args(large)["--cores"] == "4"


def test_history_server_reads_the_event_log_directory(
    deployment: Deployment, settings: Settings
) -> None:
    conf = spark_conf(settings)
    assert conf["spark.history.fs.logDirectory"] == settings.spark.event_log_dir
    assert settings.spark.event_log_dir.startswith("s3a://lakehouse-dev-processed")
    history = container(deployment, "Deployment", "spark-history", "history")
    assert history["command"][-1] == "org.apache.spark.deploy.history.HistoryServer"
    # S3A is not in Spark's own jars: the daemon adds the image's pinned jar cache.
    assert env(history)["SPARK_DAEMON_CLASSPATH"] == "/opt/lakehouse/jars/*"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert history[probe]["httpGet"]["port"] == "http", probe
