"""Names shared by the infrastructure (IAM trust, node groups) and the Kubernetes workloads.

IRSA trust policies name a namespace and service account; node groups carry the labels and
taints the pods select and tolerate. Both sides import them from here so they agree.
"""

from __future__ import annotations

NAMESPACE = "lakehouse"

# Service accounts. Executors are child JVMs of the standalone worker, so they act with the
# worker's identity; the ETL driver runs in its own job pod with its own identity.
SA_SPARK_MASTER = "spark-master"
SA_SPARK_WORKER = "spark-worker"
SA_ETL = "etl"
SA_GENERATOR = "generator"
SA_METASTORE = "hive-metastore"

# Node placement.
POOL_LABEL = "lakehouse.io/pool"
SYSTEM_POOL = "system"
SPARK_POOL = "spark"
SPARK_TAINT_KEY = POOL_LABEL
SPARK_TAINT_VALUE = SPARK_POOL
SPARK_TAINT_EFFECT = "NoSchedule"  # Kubernetes spelling; EKS node groups say NO_SCHEDULE

# In-cluster service names (DNS: <name>.<namespace>.svc.cluster.local).
METASTORE_SERVICE = "hive-metastore"
SPARK_MASTER_SERVICE = "spark-master"
SPARK_HISTORY_SERVICE = "spark-history"


def service_host(name: str) -> str:
    return f"{name}.{NAMESPACE}.svc.cluster.local"
