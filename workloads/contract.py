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


# --- Added with the Kubernetes workloads (workloads/stack.py) ---------------------------

# The Spark History Server reads event logs from the processed bucket. Its IRSA role is
# optional in WorkloadsArgs.role_arns (without it the server runs as SA_ETL, see docs).
SA_SPARK_HISTORY = "spark-history"

# Image users. Pods run with runAsUser = the UID the image creates: Hadoop's login module
# (Spark, Hive) looks the UID up in /etc/passwd and fails without an entry.
SPARK_UID = 185  # the Apache Spark images' `spark` user
METASTORE_UID = 10001  # workloads/images/hive-metastore/Dockerfile
GENERATOR_UID = 10002

# Spark's default UI ports for the daemons core.settings has no key for.
SPARK_WORKER_UI_PORT = 8081
SPARK_HISTORY_UI_PORT = 18080
