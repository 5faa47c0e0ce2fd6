"""The AWS side of the nginx lakehouse, one Pulumi stack per environment (dev, prod).

Deploys a VPC over three AZs; EKS with an on-demand system node group, a tainted spot node
group for Spark and the Cluster Autoscaler; RDS PostgreSQL for the Hive Metastore; S3
buckets for raw input, processed output and the Iceberg warehouse; one IRSA role per
workload; ECR repositories with the images built from this repository; and, on top, the
Kubernetes workloads (`workloads.stack`). Usage and configuration: docs/aws.md.
"""

import pulumi

from core.settings import SPARK_UI_PORT
from infra.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from infra.cluster import Cluster, ClusterArgs, spark_node_group, system_node_group
from infra.config import load_config, reject_creator_as_admin
from infra.database import Database, DatabaseArgs
from infra.iam import WorkloadIdentities, WorkloadIdentitiesArgs
from infra.images import Images, ImagesArgs
from infra.lakehouse_settings import aws_settings
from infra.network import Network, NetworkArgs
from infra.storage import Storage, StorageArgs
from workloads import contract
from workloads.stack import Workloads, WorkloadsArgs

# Pulumi runs this file from infra/; `core`, `infra` and `workloads` resolve through the
# project's editable install in .venv (`make setup`: pip install -e .).
cfg = load_config()
reject_creator_as_admin(cfg)

network = Network(
    "network",
    NetworkArgs(cidr=cfg.vpc_cidr, region=cfg.region, nat_gateway_per_az=cfg.nat_gateway_per_az),
)

storage = Storage(
    "storage",
    StorageArgs(
        name_prefix=cfg.cluster_name,
        force_destroy=not cfg.protect_data,
        protect=cfg.protect_data,
        retain_on_delete=cfg.keep_data_on_destroy,
        raw_log_retention_days=cfg.raw_log_retention_days,
        noncurrent_version_retention_days=cfg.noncurrent_version_retention_days,
    ),
)

cluster = Cluster(
    "eks",
    ClusterArgs(
        cluster_name=cfg.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        public_subnet_ids=network.public_subnet_ids,
        api_allowed_cidrs=cfg.api_allowed_cidrs,
        admin_principal_arns=cfg.admin_principal_arns,
        control_plane_log_types=cfg.control_plane_log_types,
        system=system_node_group(cfg.system_nodes),
        spark=spark_node_group(cfg.spark_nodes),
    ),
)

database = Database(
    "metastore-db",
    DatabaseArgs(
        config=cfg.database,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        client_security_group_id=cluster.node_security_group_id,
        protect_data=cfg.protect_data,
        keep_data_on_destroy=cfg.keep_data_on_destroy,
    ),
)

identities = WorkloadIdentities(
    "irsa",
    WorkloadIdentitiesArgs(
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_provider_url=cluster.oidc_provider_url,
        bucket_arns={
            "input": storage.input_bucket.arn,
            "processed": storage.processed_bucket.arn,
            "warehouse": storage.warehouse_bucket.arn,
        },
    ),
)

images = Images(
    "images",
    ImagesArgs(
        repository_prefix=cfg.cluster_name, tag=cfg.stack, force_delete=not cfg.protect_data
    ),
)

autoscaler = ClusterAutoscaler(
    "cluster-autoscaler",
    ClusterAutoscalerArgs(
        cluster_name=cfg.cluster_name,
        region=cfg.region,
        chart_version=cfg.cluster_autoscaler_chart_version,
        image_tag=cfg.cluster_autoscaler_image_tag,
        metrics_server_chart_version=cfg.metrics_server_chart_version,
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_provider_url=cluster.oidc_provider_url,
        provider=cluster.provider,
        system_nodes=cluster.system_nodes,
    ),
)

settings = aws_settings(
    region=cfg.region,
    input_bucket=storage.input_bucket.bucket,
    processed_bucket=storage.processed_bucket.bucket,
    warehouse_bucket=storage.warehouse_bucket.bucket,
    etl=cfg.etl,
    retention=cfg.retention,
    reports=cfg.reports,
)


Workloads(
    "lakehouse",
    WorkloadsArgs(
        provider=cluster.provider,
        settings=settings,
        images=images.refs,
        role_arns=identities.role_arns,
        database=database.connection,
        spark_instance_type=cfg.spark_nodes.instance_types[0],
        # One worker per spot node: the workers' autoscaler spans the node group's range.
        spark_min_workers=cfg.spark_nodes.min_nodes,
        spark_max_workers=cfg.spark_nodes.max_nodes,
        environment=cfg.stack,
    ),
    opts=pulumi.ResourceOptions(
        provider=cluster.provider,
        # Metastore, master and drivers need the system group and DNS; workers need
        # their spot group. Being declared after these also makes `pulumi destroy`
        # delete every Kubernetes object before the nodes and the cluster.
        depends_on=[
            cluster.system_nodes,
            cluster.spark_nodes,
            cluster.coredns,
            # The History Server reads the event-log directory at start.
            storage.spark_events_marker,
        ],
    ),
)

pulumi.export("region", cfg.region)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export(
    "updateKubeconfigCommand",
    pulumi.Output.concat(
        "aws eks update-kubeconfig --region ", cfg.region, " --name ", cluster.cluster_name
    ),
)
pulumi.export("inputBucket", storage.input_bucket.bucket)
pulumi.export("processedBucket", storage.processed_bucket.bucket)
pulumi.export("warehouseBucket", storage.warehouse_bucket.bucket)
pulumi.export("metastoreUri", settings.apply(lambda s: s.catalog.uri))
pulumi.export("metastoreDbEndpoint", database.instance.endpoint)
pulumi.export("images", images.refs)
pulumi.export("roleArns", identities.role_arns)
pulumi.export(
    "sparkUiCommand",
    f"kubectl -n {contract.NAMESPACE} port-forward "
    f"svc/{contract.SPARK_MASTER_SERVICE} {SPARK_UI_PORT}:{SPARK_UI_PORT}",
)
