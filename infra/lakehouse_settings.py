"""The AWS runtime's `core.settings.Settings`, built from this stack's resources.

The workloads render their ConfigMaps (spark-defaults, metastore-site.xml) from this one
object, so bucket names and service addresses cannot drift from what Pulumi created.
"""

from __future__ import annotations

import pulumi

from core import runtimes
from core.settings import EtlSettings, ReportSettings, RetentionSettings, Settings
from workloads import contract

# S3A (AWS SDK v2) on EKS: the web-identity provider, i.e. IRSA's token and role, and nothing
# else. The default chain S3A would use otherwise is the SDK's shared DefaultCredentialsProvider
# instance, which a closed S3A filesystem closes for every other user in the same long-lived
# JVM (History Server, master). (The v1 name com.amazonaws.auth.WebIdentityTokenCredentialsProvider
# is what Hadoop 3.3 took; Hadoop 3.4's S3A takes SDK v2 classes.)
S3A_WEB_IDENTITY = "software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider"


def _irsa_only(settings: Settings) -> Settings:
    conf = {**settings.spark.conf, "spark.hadoop.fs.s3a.aws.credentials.provider": S3A_WEB_IDENTITY}
    return settings.model_copy(update={"spark": settings.spark.model_copy(update={"conf": conf})})


def aws_settings(
    *,
    region: str,
    input_bucket: pulumi.Input[str],
    processed_bucket: pulumi.Input[str],
    warehouse_bucket: pulumi.Input[str],
    etl: EtlSettings,
    retention: RetentionSettings,
    reports: ReportSettings,
) -> pulumi.Output[Settings]:
    return pulumi.Output.all(input_bucket, processed_bucket, warehouse_bucket).apply(
        lambda names: _irsa_only(
            runtimes.aws(
                input_bucket=names[0],
                processed_bucket=names[1],
                warehouse_bucket=names[2],
                region=region,
                metastore_host=contract.service_host(contract.METASTORE_SERVICE),
                spark_master_host=contract.service_host(contract.SPARK_MASTER_SERVICE),
                etl=etl,
                retention=retention,
                reports=reports,
            )
        )
    )
