"""Spark standalone: one master on the system group, workers only on the spot group.

Workers are sized to fill one spot node (workloads/sizing.py). On a spot reclaim or a drain,
the pod's preStop hook sends the worker SIGPWR, Spark's decommission signal: the master stops
scheduling on it and its executors migrate shuffle and cached blocks to the other workers
(`spark.decommission.*` and `spark.storage.decommission.*` come from core.properties),
within the two minutes EC2 gives a spot instance.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from core.settings import SPARK_MASTER_PORT, SPARK_UI_PORT, Settings
from workloads import config_files, contract, sizing
from workloads.config_files import SPARK_CONF_DIR
from workloads.objects import (
    NOT_SAFE_TO_EVICT,
    TMP,
    Scope,
    Scratch,
    cluster_ip_service,
    config_volume,
    container,
    env,
    http_probe,
    pod_ip_env,
    pod_spec,
    read_only_mount,
    resources,
    selector_labels,
    service_account,
    spark_spot_pool,
    system_pool,
    tcp_probe,
)

COMPONENT = "spark"
# What spark/Dockerfile provides (tests/workloads/test_dockerfiles.py checks it):
SPARK_HOME = "/opt/spark"
SPARK_CLASS = f"{SPARK_HOME}/bin/spark-class"
# The image's init, kept as PID 1 when a pod sets its own command: it forwards signals
# (SIGPWR included) to the JVM and reaps orphans (Python workers of finished executors).
TINI = ["/usr/bin/tini", "--"]
# The image's jar cache (LAKEHOUSE_JAR_CACHE): Iceberg, hadoop-aws and the AWS SDK, pinned
# in core/jars.toml. Drivers add them with spark.jars; daemons need them on their
# classpath (the History Server reads the event logs from S3).
IMAGE_JARS = "/opt/lakehouse/jars"
WORKER_NAME = "spark-worker"
# Workers scale on their CPU use (executors are processes inside the worker container, so
# the pod's usage is theirs). The request is most of the node (t3.medium: 1650m); a busy
# worker uses at least one core of it (60%; about all of it with the default 2-core
# executor), an idle one ~2%: a 40% target grows a busy pool every HPA cycle until
# sparkMaxNodes, and shrinks an idle one to sparkMinNodes. Each new worker is Pending until
# the Cluster Autoscaler adds a spot node for it (a worker fills a node). docs/aws.md.
WORKER_CPU_TARGET_PERCENT = 40
# Scale down one worker at a time, each after its decommission (the preStop hook, at most
# TERMINATION_GRACE_SECONDS), and only after 10 minutes without load: a pause between two
# stages of a run must not give its executors away.
SCALE_DOWN_WINDOW_SECONDS = 600
SCALE_DOWN_PERIOD_SECONDS = 180
WORK_DIR = Scratch("work", "/var/spark/work", "10Gi")  # executors' jars, stdout/stderr
LOCAL_DIRS = Scratch("local", "/var/spark/local", "30Gi")  # shuffle and spill

# EC2 gives a spot instance two minutes. The hook waits for the executors to hand over
# their blocks (at most DECOMMISSION_WAIT_SECONDS), then Kubernetes sends SIGTERM; the grace
# period bounds the whole stop. Drains for upgrades get the same orderly exit.
DECOMMISSION_WAIT_SECONDS = 100
TERMINATION_GRACE_SECONDS = 115
# Spark's standalone worker decommissions on `spark.worker.decommission.signal` (PWR);
# PID 1 is tini, which forwards it to the worker JVM. Executors are the worker's child
# processes: wait while any still runs (it exits once its blocks have migrated).
# ([C]oarse... keeps grep from matching its own command line.)
PRESTOP_DECOMMISSION = (
    "kill -s PWR 1 || exit 0; "
    f"i=0; while [ $i -lt {DECOMMISSION_WAIT_SECONDS} ] && "
    "grep -qs '[C]oarseGrainedExecutorBackend' /proc/[0-9]*/cmdline; "
    "do sleep 2; i=$((i + 2)); done"
)


@dataclass
class SparkClusterArgs:
    scope: Scope
    settings: pulumi.Output[Settings]
    image: pulumi.Input[str]
    spark_config_map: pulumi.Input[str]
    instance_type: str
    worker_role_arn: pulumi.Input[str]
    master_role_arn: pulumi.Input[str] | None = None
    min_workers: int = 3  # sparkMinNodes: one worker per spot node
    max_workers: int = 6  # sparkMaxNodes


def spark_conf_env() -> list[k8s.core.v1.EnvVarArgs]:
    # HOME: Python and the JVM write caches under it; the root filesystem is read-only.
    return env({"SPARK_CONF_DIR": SPARK_CONF_DIR, "SPARK_HOME": SPARK_HOME, "HOME": TMP.path})


def spark_daemon_env() -> list[k8s.core.v1.EnvVarArgs]:
    """What every standalone daemon (master, worker, History Server) runs with."""
    return [
        *spark_conf_env(),
        *env({"SPARK_DAEMON_JAVA_OPTS": config_files.spark_daemon_java_options()}),
    ]


def spark_conf_mount() -> k8s.core.v1.VolumeMountArgs:
    return read_only_mount("spark-conf", SPARK_CONF_DIR)


class SparkCluster(pulumi.ComponentResource):
    master_service: k8s.core.v1.Service
    master: k8s.apps.v1.Deployment
    workers: k8s.apps.v1.Deployment
    worker_autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler
    worker_budget: k8s.policy.v1.PodDisruptionBudget
    worker_size: pulumi.Output[sizing.WorkerSize]

    def __init__(
        self, name: str, args: SparkClusterArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("lakehouse:workloads:SparkCluster", name, None, opts)
        sizing.node_type(args.instance_type)  # an unknown type fails now, not in an apply
        self.worker_size = args.settings.apply(
            lambda s: sizing.worker_size(args.instance_type, s.spark)
        )
        conf_volume = config_volume("spark-conf", args.spark_config_map)
        self._master(name, args, conf_volume)
        self._workers(name, args, conf_volume)
        self.register_outputs({"master_service": self.master_service.metadata.name})

    def _master(
        self, name: str, args: SparkClusterArgs, conf_volume: k8s.core.v1.VolumeArgs
    ) -> None:
        scope = args.scope
        account = service_account(
            scope,
            self,
            f"{name}-master-sa",
            contract.SA_SPARK_MASTER,
            COMPONENT,
            args.master_role_arn,
        )
        master = container(
            name="master",
            image=args.image,
            command=[*TINI, SPARK_CLASS, "org.apache.spark.deploy.master.Master"],
            # RPC on the pod IP (the Service targets it). The web UI binds 0.0.0.0 unless
            # SPARK_LOCAL_IP is set, which is why it is not: port-forward reaches 127.0.0.1.
            args=[
                "--host",
                "$(POD_IP)",
                "--port",
                str(SPARK_MASTER_PORT),
                "--webui-port",
                str(SPARK_UI_PORT),
            ],
            env=[
                pod_ip_env(),
                *spark_daemon_env(),
                *env({"SPARK_DAEMON_MEMORY": sizing.SPARK_MASTER_HEAP}),
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(name="spark", container_port=SPARK_MASTER_PORT),
                k8s.core.v1.ContainerPortArgs(name="http", container_port=SPARK_UI_PORT),
            ],
            mounts=[spark_conf_mount(), TMP.mount()],
            resources=resources(sizing.SPARK_MASTER.millicores, sizing.SPARK_MASTER.memory_mib),
            readiness_probe=tcp_probe("spark", period_seconds=10),
            liveness_probe=http_probe("http", period_seconds=20, failure_threshold=3),
        )
        self.master = k8s.apps.v1.Deployment(
            f"{name}-master",
            metadata=scope.metadata(COMPONENT, contract.SPARK_MASTER_SERVICE),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=selector_labels(contract.SPARK_MASTER_SERVICE)
                ),
                # Two masters would split the workers between them: stop the old one first.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=scope.labels(contract.SPARK_MASTER_SERVICE, COMPONENT),
                        annotations=NOT_SAFE_TO_EVICT,
                    ),
                    spec=pod_spec(
                        uid=contract.SPARK_UID,
                        service_account=account.metadata.name,
                        placement=system_pool(),
                        containers=[master],
                        volumes=[conf_volume, TMP.volume()],
                    ),
                ),
            ),
            opts=scope.opts(self),
        )
        self.master_service = cluster_ip_service(
            scope,
            self,
            f"{name}-master-svc",
            COMPONENT,
            contract.SPARK_MASTER_SERVICE,
            {"spark": SPARK_MASTER_PORT, "http": SPARK_UI_PORT},
        )

    def _workers(
        self, name: str, args: SparkClusterArgs, conf_volume: k8s.core.v1.VolumeArgs
    ) -> None:
        scope = args.scope
        account = service_account(
            scope,
            self,
            f"{name}-worker-sa",
            contract.SA_SPARK_WORKER,
            COMPONENT,
            args.worker_role_arn,
        )
        size = self.worker_size
        worker = container(
            name="worker",
            image=args.image,
            command=[*TINI, SPARK_CLASS, "org.apache.spark.deploy.worker.Worker"],
            args=pulumi.Output.all(args.settings, size).apply(
                lambda a: [
                    "--host",
                    "$(POD_IP)",
                    "--cores",
                    str(a[1].offered_cores),
                    "--memory",
                    a[1].offered_memory,
                    "--work-dir",
                    WORK_DIR.path,
                    "--webui-port",
                    str(contract.SPARK_WORKER_UI_PORT),
                    a[0].spark.master,
                ]
            ),
            env=[
                pod_ip_env(),
                *spark_daemon_env(),
                *env(
                    {
                        "SPARK_DAEMON_MEMORY": f"{sizing.WORKER_DAEMON_HEAP_MIB}m",
                        "SPARK_LOCAL_DIRS": LOCAL_DIRS.path,
                    }
                ),
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name="http", container_port=contract.SPARK_WORKER_UI_PORT
                )
            ],
            mounts=[spark_conf_mount(), TMP.mount(), WORK_DIR.mount(), LOCAL_DIRS.mount()],
            resources=size.apply(lambda s: resources(s.pod.millicores, s.pod.memory_mib)),
            readiness_probe=tcp_probe("http", period_seconds=10),
            liveness_probe=http_probe("http", period_seconds=20, failure_threshold=3),
            lifecycle=k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    exec_=k8s.core.v1.ExecActionArgs(
                        command=["/bin/sh", "-c", PRESTOP_DECOMMISSION]
                    )
                )
            ),
        )
        self.workers = k8s.apps.v1.Deployment(
            f"{name}-worker",
            metadata=scope.metadata(COMPONENT, WORKER_NAME),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                # No replicas: the HorizontalPodAutoscaler below owns the count; a value here
                # would reset it on every `pulumi up`. A new Deployment starts with one pod
                # and the autoscaler brings it to min_workers at once.
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(WORKER_NAME)),
                # A worker fills its node: replace one at a time, never surge onto a full node.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=0, max_unavailable=1
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=scope.labels(WORKER_NAME, COMPONENT)
                    ),
                    spec=pod_spec(
                        uid=contract.SPARK_UID,
                        service_account=account.metadata.name,
                        placement=spark_spot_pool(selector_labels(WORKER_NAME)),
                        containers=[worker],
                        volumes=[conf_volume, TMP.volume(), WORK_DIR.volume(), LOCAL_DIRS.volume()],
                        termination_grace_period_seconds=TERMINATION_GRACE_SECONDS,
                    ),
                ),
            ),
            opts=scope.opts(self),
        )
        self.worker_autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-worker-hpa",
            metadata=scope.metadata(COMPONENT, WORKER_NAME),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self.workers.metadata.name
                ),
                min_replicas=args.min_workers,
                max_replicas=args.max_workers,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                            name="cpu",
                            target=k8s.autoscaling.v2.MetricTargetArgs(
                                type="Utilization",
                                average_utilization=WORKER_CPU_TARGET_PERCENT,
                            ),
                        ),
                    )
                ],
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=SCALE_DOWN_WINDOW_SECONDS,
                        select_policy="Min",
                        policies=[
                            k8s.autoscaling.v2.HPAScalingPolicyArgs(
                                type="Pods", value=1, period_seconds=SCALE_DOWN_PERIOD_SECONDS
                            )
                        ],
                    ),
                ),
            ),
            opts=scope.opts(self),
        )
        # Voluntary disruptions (drains, rebalancing, upgrades) take one worker at a time.
        self.worker_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-worker-pdb",
            metadata=scope.metadata(COMPONENT, WORKER_NAME),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(WORKER_NAME)),
                # A crash-looping worker must not block a node drain.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=scope.opts(self),
        )
