"""Spark History Server: the UIs of finished ETL runs, from the event logs on S3.

It reads `spark.history.fs.logDirectory` (= the settings' event_log_dir) from the same
spark-defaults.conf as the master and the driver. ClusterIP only: reach it by port-forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from core.settings import Settings
from workloads import contract, event_logs, sizing
from workloads.objects import (
    TMP,
    Scope,
    cluster_ip_service,
    config_volume,
    container,
    env,
    http_probe,
    pod_spec,
    resources,
    selector_labels,
    service_account,
    system_pool,
)
from workloads.spark_cluster import (
    IMAGE_JARS,
    SPARK_CLASS,
    TINI,
    spark_conf_mount,
    spark_daemon_env,
)

COMPONENT = "spark-history"


@dataclass
class HistoryServerArgs:
    scope: Scope
    settings: pulumi.Output[Settings]
    image: pulumi.Input[str]
    spark_config_map: pulumi.Input[str]
    # Its own read-only role; None means "run as the ETL's service account", whose role
    # writes the event logs and so can read them (see docs/workloads.md).
    role_arn: pulumi.Input[str] | None
    fallback_service_account: pulumi.Input[str]


class HistoryServer(pulumi.ComponentResource):
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    service_account_name: pulumi.Input[str]

    def __init__(
        self, name: str, args: HistoryServerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("lakehouse:workloads:HistoryServer", name, None, opts)
        scope = args.scope
        if args.role_arn is not None:
            account = service_account(
                scope, self, f"{name}-sa", contract.SA_SPARK_HISTORY, COMPONENT, args.role_arn
            )
            self.service_account_name = account.metadata.name
        else:
            self.service_account_name = args.fallback_service_account
        server = container(
            name="history",
            image=args.image,
            command=[*TINI, SPARK_CLASS, "org.apache.spark.deploy.history.HistoryServer"],
            env=[
                *spark_daemon_env(),
                *env(
                    {
                        "SPARK_DAEMON_MEMORY": sizing.SPARK_HISTORY_HEAP,
                        # S3A (hadoop-aws + AWS SDK) for the event logs on S3.
                        "SPARK_DAEMON_CLASSPATH": f"{IMAGE_JARS}/*",
                    }
                ),
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name="http", container_port=contract.SPARK_HISTORY_UI_PORT
                )
            ],
            mounts=[spark_conf_mount(), TMP.mount()],
            resources=resources(sizing.SPARK_HISTORY.millicores, sizing.SPARK_HISTORY.memory_mib),
            startup_probe=http_probe("http", period_seconds=5, failure_threshold=24),
            readiness_probe=http_probe("http", period_seconds=10),
            liveness_probe=http_probe("http", period_seconds=30, failure_threshold=3),
        )
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=scope.metadata(COMPONENT, contract.SPARK_HISTORY_SERVICE),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=selector_labels(contract.SPARK_HISTORY_SERVICE)
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=scope.labels(contract.SPARK_HISTORY_SERVICE, COMPONENT)
                    ),
                    spec=pod_spec(
                        uid=contract.SPARK_UID,
                        service_account=self.service_account_name,
                        placement=system_pool(),
                        # Until the first ETL run creates it, the log directory is missing
                        # and the server would exit; wait instead of crash-looping.
                        init_containers=[event_logs.wait_for_directory(args.image, args.settings)],
                        containers=[server],
                        volumes=[config_volume("spark-conf", args.spark_config_map), TMP.volume()],
                    ),
                ),
            ),
            opts=scope.opts(self),
        )
        self.service = cluster_ip_service(
            scope,
            self,
            f"{name}-svc",
            COMPONENT,
            contract.SPARK_HISTORY_SERVICE,
            {"http": contract.SPARK_HISTORY_UI_PORT},
        )
        self.register_outputs({"service": self.service.metadata.name})
