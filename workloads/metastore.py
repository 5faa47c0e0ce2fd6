"""Hive Metastore 3.1.3: the Iceberg catalog's thrift service, backed by RDS PostgreSQL.

One replica on the system node group. An init container creates the schema in an empty
database and does nothing when it exists (`hms init-schema`, workloads/images/hive-metastore),
so every pod start - and every re-deploy - is safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from core.settings import METASTORE_PORT, Settings
from workloads import config_files, contract, sizing
from workloads.objects import (
    NOT_SAFE_TO_EVICT,
    TMP,
    Scope,
    cluster_ip_service,
    config_volume,
    container,
    env,
    pod_spec,
    read_only_mount,
    resources,
    selector_labels,
    service_account,
    system_pool,
    tcp_probe,
)

COMPONENT = "metastore"
# The image's launcher (workloads/images/hive-metastore/hms) and where it reads its config.
HMS = "/opt/hive-metastore/bin/hms"
PASSWORD_ENV = "METASTORE_DB_PASSWORD"  # what metastore-site.xml's ${env.…} expands
PASSWORD_KEY = "password"
PORT_NAME = "thrift"


@dataclass(frozen=True)
class DatabaseConnection:
    """What the metastore needs to connect (infra/database.py builds it from the RDS instance)."""

    host: pulumi.Input[str]
    port: pulumi.Input[int]
    name: str
    user: str
    password: pulumi.Input[str]  # a Pulumi secret


@dataclass
class MetastoreArgs:
    scope: Scope
    settings: pulumi.Output[Settings]
    image: pulumi.Input[str]
    database: DatabaseConnection
    role_arn: pulumi.Input[str]


class Metastore(pulumi.ComponentResource):
    service: k8s.core.v1.Service
    deployment: k8s.apps.v1.Deployment
    config_map: k8s.core.v1.ConfigMap
    secret: k8s.core.v1.Secret

    def __init__(self, name: str, args: MetastoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:workloads:Metastore", name, None, opts)
        scope, db = args.scope, args.database
        account = service_account(
            scope, self, f"{name}-sa", contract.SA_METASTORE, COMPONENT, args.role_arn
        )
        # Auto-named: a new password makes a new Secret, which rolls the pod.
        self.secret = k8s.core.v1.Secret(
            f"{name}-db",
            metadata=scope.metadata(COMPONENT, None, app=contract.METASTORE_SERVICE),
            type="Opaque",
            string_data={PASSWORD_KEY: pulumi.Output.secret(db.password)},
            opts=scope.opts(self),
        )
        site = pulumi.Output.all(args.settings, db.host, db.port).apply(
            lambda a: config_files.metastore_site_xml(
                a[0], config_files.jdbc_url(a[1], a[2], db.name), db.user
            )
        )
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-site",
            metadata=scope.metadata(COMPONENT, None, app=contract.METASTORE_SERVICE),
            data={config_files.METASTORE_SITE_FILE: site},
            opts=scope.opts(self),
        )

        password = k8s.core.v1.EnvVarArgs(
            name=PASSWORD_ENV,
            value_from=k8s.core.v1.EnvVarSourceArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                    name=self.secret.metadata.name, key=PASSWORD_KEY
                )
            ),
        )
        conf_dir = env({"METASTORE_CONF_DIR": config_files.METASTORE_CONF_DIR})
        mounts = [read_only_mount("config", config_files.METASTORE_CONF_DIR), TMP.mount()]
        init_schema = container(
            name="init-schema",
            image=args.image,
            command=[HMS, "init-schema"],
            env=[password, *conf_dir],
            mounts=mounts,
            resources=resources(sizing.METASTORE_INIT.millicores, sizing.METASTORE_INIT.memory_mib),
        )
        server = container(
            name="metastore",
            image=args.image,
            command=[HMS, "serve"],
            env=[password, *conf_dir],
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name=PORT_NAME, container_port=METASTORE_PORT, protocol="TCP"
                )
            ],
            mounts=mounts,
            resources=resources(sizing.METASTORE.millicores, sizing.METASTORE.memory_mib),
            # Cold start is ~12 s on a laptop; allow a slow node and a slow first DB connect.
            startup_probe=tcp_probe(PORT_NAME, period_seconds=5, failure_threshold=36),
            readiness_probe=tcp_probe(PORT_NAME, period_seconds=10, failure_threshold=3),
            liveness_probe=tcp_probe(PORT_NAME, period_seconds=20, failure_threshold=3),
        )
        labels = scope.labels(contract.METASTORE_SERVICE, COMPONENT)
        self.deployment = k8s.apps.v1.Deployment(
            name,
            metadata=scope.metadata(COMPONENT, contract.METASTORE_SERVICE),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels=selector_labels(contract.METASTORE_SERVICE)
                ),
                # The metastore is stateless (state is in PostgreSQL): start the new pod
                # before stopping the old one, so the catalog never goes away on a deploy.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=1, max_unavailable=0
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels, annotations=NOT_SAFE_TO_EVICT
                    ),
                    spec=pod_spec(
                        uid=contract.METASTORE_UID,
                        service_account=account.metadata.name,
                        placement=system_pool(),
                        init_containers=[init_schema],
                        containers=[server],
                        volumes=[
                            config_volume("config", self.config_map.metadata.name),
                            TMP.volume(),
                        ],
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
            contract.METASTORE_SERVICE,
            {PORT_NAME: METASTORE_PORT},
        )
        self.register_outputs({"service": self.service.metadata.name})
