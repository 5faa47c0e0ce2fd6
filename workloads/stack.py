"""The Kubernetes side of the lakehouse, as one Pulumi component (`Workloads`).

Declares, in namespace `lakehouse` (workloads.contract.NAMESPACE):
- Hive Metastore 3.1.3 (Deployment + Service :9083, schema init, DB password Secret)
- Spark standalone: master (Deployment + Service :7077/:8080) on the system node group,
  3-6 workers (a HorizontalPodAutoscaler on CPU) on the spot node group only, one per node,
  with a PodDisruptionBudget and decommissioning
- Spark History Server (Deployment + Service :18080) reading the event logs on S3
- the generator, the ETL and table maintenance as CronJobs, each with its own IRSA service
  account (maintenance runs as the ETL's); maintenance never overlaps an ETL run
- NetworkPolicies (default deny) and Pod Security "restricted" on the namespace

Every config file is rendered from the `Settings` passed in (core.properties), so
the cluster runs with the same Spark, Iceberg and Hive properties as the local stack.
See docs/workloads.md for reaching the UIs and running jobs on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from core.errors import ConfigError
from core.settings import Settings
from workloads import config_files, contract
from workloads.history import HistoryServer, HistoryServerArgs
from workloads.jobs import Jobs, JobsArgs
from workloads.metastore import DatabaseConnection, Metastore, MetastoreArgs
from workloads.namespace import namespace
from workloads.network_policies import NetworkPolicies
from workloads.objects import Scope
from workloads.sizing import node_type
from workloads.spark_cluster import SparkCluster, SparkClusterArgs

__all__ = ["DatabaseConnection", "Workloads", "WorkloadsArgs"]

IMAGE_KEYS = ("spark", "metastore", "generator")
REQUIRED_ROLES = (
    contract.SA_SPARK_WORKER,
    contract.SA_ETL,
    contract.SA_GENERATOR,
    contract.SA_METASTORE,
)
OPTIONAL_ROLES = (contract.SA_SPARK_HISTORY, contract.SA_SPARK_MASTER)


@dataclass
class WorkloadsArgs:
    provider: k8s.Provider | None
    settings: pulumi.Input[Settings]  # usually an Output[Settings] from core.runtimes.aws
    images: dict[str, pulumi.Input[str]]  # "spark", "metastore", "generator"
    role_arns: dict[str, pulumi.Input[str]]  # by service account name (workloads.contract)
    database: DatabaseConnection
    spark_instance_type: str = "t3.medium"
    # sparkMinNodes/sparkMaxNodes: one worker per spot node, scaled by a HorizontalPodAutoscaler
    spark_min_workers: int = 3
    spark_max_workers: int = 6
    environment: str = "dev"
    # Hourly at :15, except 03:15, the maintenance slot (workloads/jobs.py: never both).
    etl_schedule: str = "15 0-2,4-23 * * *"
    maintenance_schedule: str = "15 3 * * *"
    generator_schedule: str | None = "*/30 * * * *"  # None: suspended, run by hand only
    generator_args: Sequence[str] = ()  # extra `lakehouse generate` flags (--lines, --days)


def check_args(args: WorkloadsArgs) -> None:
    """Fail at once, naming the key, for what can be checked before any value resolves."""
    missing_images = [k for k in IMAGE_KEYS if k not in args.images]
    if missing_images:
        raise ConfigError(f"WorkloadsArgs.images lacks {', '.join(missing_images)}")
    missing_roles = [k for k in REQUIRED_ROLES if k not in args.role_arns]
    if missing_roles:
        raise ConfigError(f"WorkloadsArgs.role_arns lacks {', '.join(missing_roles)}")
    unknown = sorted(set(args.role_arns) - set(REQUIRED_ROLES) - set(OPTIONAL_ROLES))
    if unknown:
        raise ConfigError(
            f"WorkloadsArgs.role_arns has unknown service accounts {', '.join(unknown)} "
            "(keys are workloads.contract SA_* names)"
        )
    node_type(args.spark_instance_type)
    if not 1 <= args.spark_min_workers <= args.spark_max_workers:
        raise ConfigError(
            "WorkloadsArgs.spark_min_workers/spark_max_workers must satisfy 1 <= min <= max "
            f"(got {args.spark_min_workers}..{args.spark_max_workers})"
        )


class Workloads(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    metastore: Metastore
    spark: SparkCluster
    history: HistoryServer
    jobs: Jobs
    network_policies: NetworkPolicies
    settings_config_map: k8s.core.v1.ConfigMap
    spark_config_map: k8s.core.v1.ConfigMap

    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("lakehouse:workloads:Workloads", name, None, opts)
        check_args(args)
        settings = pulumi.Output.from_input(args.settings).apply(config_files.check_settings)
        # Children do not inherit a component's depends_on (no such edge reaches the engine):
        # hand it to the namespace, which every other object depends on.
        self.namespace = namespace(
            f"{name}-ns", args.environment, args.provider, self, opts.depends_on if opts else None
        )
        scope = Scope(self.namespace.metadata.name, args.provider, args.environment)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        # Auto-named: changed settings make new ConfigMaps, and the pods using them roll.
        self.settings_config_map = k8s.core.v1.ConfigMap(
            f"{name}-settings",
            metadata=scope.metadata("config", None, app="lakehouse-settings"),
            data={config_files.SETTINGS_FILE: settings.apply(config_files.settings_toml)},
            opts=scope.opts(self),
        )
        self.spark_config_map = k8s.core.v1.ConfigMap(
            f"{name}-spark-defaults",
            metadata=scope.metadata("config", None, app="spark-defaults"),
            data={config_files.SPARK_DEFAULTS_FILE: settings.apply(config_files.spark_defaults)},
            opts=scope.opts(self),
        )
        roles = args.role_arns
        self.metastore = Metastore(
            f"{name}-metastore",
            MetastoreArgs(
                scope=scope,
                settings=settings,
                image=args.images["metastore"],
                database=args.database,
                role_arn=roles[contract.SA_METASTORE],
            ),
            opts=child,
        )
        self.spark = SparkCluster(
            f"{name}-spark",
            SparkClusterArgs(
                scope=scope,
                settings=settings,
                image=args.images["spark"],
                spark_config_map=self.spark_config_map.metadata.name,
                instance_type=args.spark_instance_type,
                worker_role_arn=roles[contract.SA_SPARK_WORKER],
                master_role_arn=roles.get(contract.SA_SPARK_MASTER),
                min_workers=args.spark_min_workers,
                max_workers=args.spark_max_workers,
            ),
            opts=child,
        )
        self.jobs = Jobs(
            f"{name}-jobs",
            JobsArgs(
                scope=scope,
                settings=settings,
                spark_image=args.images["spark"],
                generator_image=args.images["generator"],
                settings_config_map=self.settings_config_map.metadata.name,
                spark_config_map=self.spark_config_map.metadata.name,
                etl_role_arn=roles[contract.SA_ETL],
                generator_role_arn=roles[contract.SA_GENERATOR],
                etl_schedule=args.etl_schedule,
                maintenance_schedule=args.maintenance_schedule,
                generator_schedule=args.generator_schedule,
                generator_args=tuple(args.generator_args),
            ),
            opts=child,
        )
        history_role = roles.get(contract.SA_SPARK_HISTORY)
        if history_role is None:
            pulumi.log.warn(
                f"role_arns has no '{contract.SA_SPARK_HISTORY}': the Spark History Server "
                f"runs as service account '{contract.SA_ETL}' (read-write on the ETL's "
                "buckets); give it a read-only role on the event-log prefix instead",
                resource=self,
            )
        self.history = HistoryServer(
            f"{name}-history",
            HistoryServerArgs(
                scope=scope,
                settings=settings,
                image=args.images["spark"],
                spark_config_map=self.spark_config_map.metadata.name,
                role_arn=history_role,
                fallback_service_account=self.jobs.etl_service_account.metadata.name,
            ),
            opts=child,
        )
        self.network_policies = NetworkPolicies(
            f"{name}-netpol", scope, args.database.port, opts=child
        )

        self.metastore_uri = settings.apply(lambda s: s.catalog.uri)
        self.spark_master_url = settings.apply(lambda s: s.spark.master)
        self.register_outputs(
            {
                "namespace": self.namespace.metadata.name,
                "metastore_uri": self.metastore_uri,
                "spark_master_url": self.spark_master_url,
            }
        )
