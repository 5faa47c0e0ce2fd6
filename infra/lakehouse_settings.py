"""The AWS runtime's `core.settings.Settings`, built from this stack's resources.

The workloads render their ConfigMaps (spark-defaults, metastore-site.xml) from this one
object, so bucket names and service addresses cannot drift from what Pulumi created.
"""

from __future__ import annotations

import pulumi

from core import runtimes
from core.settings import Settings
from workloads import contract


def aws_settings(
    *,
    region: str,
    input_bucket: pulumi.Input[str],
    processed_bucket: pulumi.Input[str],
    warehouse_bucket: pulumi.Input[str],
) -> pulumi.Output[Settings]:
    return pulumi.Output.all(input_bucket, processed_bucket, warehouse_bucket).apply(
        lambda names: runtimes.aws(
            input_bucket=names[0],
            processed_bucket=names[1],
            warehouse_bucket=names[2],
            region=region,
            metastore_host=contract.service_host(contract.METASTORE_SERVICE),
            spark_master_host=contract.service_host(contract.SPARK_MASTER_SERVICE),
        )
    )
