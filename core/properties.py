"""Spark, PyIceberg and Hive Metastore properties, derived from `Settings` in one place.

The embedded session, the local stack (spark-defaults, metastore-site.xml) and the EKS
workloads (ConfigMaps) all render these functions' output, so they cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.settings import CatalogKind, Settings

ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"
S3A_FS = "org.apache.hadoop.fs.s3a.S3AFileSystem"
# AWS SDK v2 default chain: env, profile, web identity (IRSA), container, instance profile.
DEFAULT_CREDENTIALS = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
STATIC_CREDENTIALS = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
# The metastore runs Hadoop 3.3.6, whose S3A takes AWS SDK v1 providers; the v1 default
# chain includes the web-identity provider IRSA needs (with aws-java-sdk-sts present).
METASTORE_DEFAULT_CREDENTIALS = "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
# Large enough that Spark never packs two input files into one partition nor splits one:
# source_line numbering relies on "one file = one partition, read in order".
ONE_FILE_PER_PARTITION = str(1 << 40)
# The throughput collector for Spark's JVMs, not the JDK's default G1: their work is batch
# work with no pause-time goal, and G1's concurrent marking and write barriers share the
# cores with the tasks. Measured (docs/benchmarks.md): the driver of a 10M-line embedded
# first load 17 % faster; the local stack's executors, a 1M-line first load 10 % faster.
THROUGHPUT_GC = "-XX:+UseParallelGC"
_CHOOSES_GC = re.compile(r"-XX:\+Use\w+GC\b")
# The driver of a cluster (local stack, EKS) plans queries and commits tables while the
# executors process the rows, so it gains little from the optimising JIT compiler (C2) and
# pays for its compile threads at every start; C1 alone gets it to full speed sooner.
# Measured on the local stack, where driver and executors share two cores: one hourly file
# 15 % faster after start, a 1M-line first load 23 % faster (docs/benchmarks.md). The
# embedded driver processes every row itself and keeps C2 (C1 alone cost it 7-14 %).
CLUSTER_DRIVER_JIT = "-XX:TieredStopAtLevel=1"


def with_collector(java_options: str) -> str:
    """`java_options` with the throughput collector, unless they choose a collector
    themselves (a JVM given two refuses to start)."""
    if _CHOOSES_GC.search(java_options):
        return java_options
    return f"{THROUGHPUT_GC} {java_options}".strip()


def uses_s3(settings: Settings) -> bool:
    storage = settings.storage
    uris = (storage.input_uri, storage.warehouse_uri, storage.processed_uri)
    return any(uri.startswith(("s3://", "s3a://")) for uri in uris)


def jar_sets(settings: Settings) -> list[str]:
    """Which pinned jar sets (core/jars.toml) a Spark session of these settings needs."""
    sets = ["spark"]
    if settings.catalog.kind is CatalogKind.SQLITE:
        sets.append("sqlite")
    if uses_s3(settings):
        sets.append("s3")
    return sets


def catalog_properties(settings: Settings) -> dict[str, str]:
    """Iceberg catalog properties (without the `spark.sql.catalog.<name>.` prefix)."""
    catalog, storage = settings.catalog, settings.storage
    props: dict[str, str] = {"warehouse": storage.warehouse_uri}
    if catalog.kind is CatalogKind.SQLITE:
        props |= {
            "type": "jdbc",
            "uri": f"jdbc:sqlite:{catalog.uri}",
            # V1 enables views and silences the legacy-schema warning.
            "jdbc.schema-version": "V1",
        }
    else:
        props |= {"type": "hive", "uri": catalog.uri}
    if storage.warehouse_uri.startswith(("s3://", "s3a://")):
        s3 = storage.s3
        props |= {"io-impl": S3_FILE_IO, "client.region": s3.region}
        if s3.endpoint:
            props["s3.endpoint"] = s3.endpoint
            # Fail in seconds when a local endpoint is down: S3FileIO's defaults (5 retries,
            # 2-20 s apart) hold every task attempt, and the run, for minutes.
            props |= {
                "s3.retry.num-retries": "2",
                "s3.retry.min-wait-ms": "200",
                "s3.retry.max-wait-ms": "1000",
            }
        if s3.path_style:
            props["s3.path-style-access"] = "true"
        if s3.access_key and s3.secret_key:
            props["s3.access-key-id"] = s3.access_key.get_secret_value()
            props["s3.secret-access-key"] = s3.secret_key.get_secret_value()
    return props


def s3a_properties(settings: Settings) -> dict[str, str]:
    """Hadoop S3A properties (without `spark.hadoop.`): raw input and event logs on S3."""
    s3 = settings.storage.s3
    props = {
        "fs.s3.impl": S3A_FS,
        "fs.s3a.impl": S3A_FS,
        "fs.s3a.endpoint.region": s3.region,
        # S3Proxy answers 500 on marker deletes; keeping markers is harmless on AWS too.
        "fs.s3a.directory.marker.retention": "keep",
        "fs.s3a.path.style.access": str(s3.path_style).lower(),
    }
    if s3.endpoint:
        props["fs.s3a.endpoint"] = s3.endpoint
        props["fs.s3a.connection.ssl.enabled"] = str(s3.endpoint.startswith("https")).lower()
        # Fail in seconds, not minutes, when a local endpoint is down: each Spark task
        # attempt (4 of them) otherwise spends ~10 s in SDK x S3A retries of a refused connect.
        # Throttling (503) has its own, untouched limit.
        props["fs.s3a.retry.limit"] = "2"
        props["fs.s3a.retry.interval"] = "200ms"
        props["fs.s3a.attempts.maximum"] = "1"
    if s3.access_key and s3.secret_key:
        props["fs.s3a.aws.credentials.provider"] = STATIC_CREDENTIALS
        props["fs.s3a.access.key"] = s3.access_key.get_secret_value()
        props["fs.s3a.secret.key"] = s3.secret_key.get_secret_value()
    else:
        props["fs.s3a.aws.credentials.provider"] = DEFAULT_CREDENTIALS
    return props


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every Spark property of a session for these settings (also rendered as spark-defaults)."""
    spark = settings.spark
    prefix = f"spark.sql.catalog.{settings.catalog.name}"
    conf: dict[str, str] = {
        "spark.master": spark.master,
        "spark.app.name": "nginx-lakehouse-etl",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        # Coalesce shuffle partitions to the advisory size (64 MB), not to the core count:
        # an hourly run's aggregates and reports are kilobytes, and each extra task of each
        # of their stages costs more than the data (docs/benchmarks.md, issue #15).
        "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
        # The same for cached frames (the aggregates every report reads): by default a cache
        # keeps all `shuffle.partitions` of its last shuffle, so each of the sixteen report
        # queries ran a task per empty partition (docs/benchmarks.md).
        "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
        "spark.ui.enabled": str(spark.ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": spark.driver_memory,
        "spark.executor.memory": spark.executor_memory,
        "spark.executor.cores": str(spark.executor_cores),
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        "spark.sql.defaultCatalog": settings.catalog.name,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.files.openCostInBytes": ONE_FILE_PER_PARTITION,
        "spark.sql.files.maxPartitionBytes": ONE_FILE_PER_PARTITION,
        # zstd: smaller files than snappy at similar speed for log text.
        "spark.sql.iceberg.compression-codec": "zstd",
        # Spot-friendly: move shuffle and cached blocks off a worker that is being reclaimed.
        "spark.decommission.enabled": "true",
        "spark.storage.decommission.enabled": "true",
        "spark.storage.decommission.shuffleBlocks.enabled": "true",
        "spark.storage.decommission.rddBlocks.enabled": "true",
    }
    conf |= {f"{prefix}.{k}": v for k, v in catalog_properties(settings).items()}
    if spark.driver_host:
        conf["spark.driver.host"] = spark.driver_host
        conf["spark.driver.bindAddress"] = spark.driver_host
    if spark.event_log_dir:
        conf["spark.eventLog.enabled"] = "true"
        conf["spark.eventLog.dir"] = spark.event_log_dir
        conf["spark.history.fs.logDirectory"] = spark.event_log_dir
    if uses_s3(settings):
        conf |= {f"spark.hadoop.{k}": v for k, v in s3a_properties(settings).items()}
    conf |= spark.conf
    executor_options = conf.get("spark.executor.extraJavaOptions", "")
    conf["spark.executor.extraJavaOptions"] = with_collector(executor_options)
    return conf


def spark_daemon_conf(history_ui_port: int) -> dict[str, str]:
    """Properties of the standalone daemons (master, workers, History Server), not of a session.

    The local stack appends them to its spark-defaults; the EKS workloads pass them as
    SPARK_DAEMON_JAVA_OPTS. Both call this, so the daemons behave alike in both places.
    """
    return {
        # No REST submission server: one listening port fewer, and jobs are submitted by
        # drivers in client mode only.
        "spark.master.rest.enabled": "false",
        # A worker registers its decommission signal handler only with this on; the pod's
        # preStop hook (and the local-stack tests) send that signal.
        "spark.decommission.enabled": "true",
        "spark.worker.decommission.signal": "PWR",
        # Finished applications' work dirs (jars, executor logs) are removed after a day;
        # otherwise an hourly job fills the work dir in weeks.
        "spark.worker.cleanup.enabled": "true",
        "spark.worker.cleanup.appDataTtl": "86400",
        "spark.history.ui.port": str(history_ui_port),
        "spark.history.fs.update.interval": "5s",
    }


def render_java_options(conf: Mapping[str, str]) -> str:
    """`-Dkey=value` flags (sorted) for SPARK_DAEMON_JAVA_OPTS; values must hold no spaces."""
    bad = [k for k, v in conf.items() if any(c.isspace() for c in k + v)]
    if bad:
        raise ValueError(f"properties with spaces cannot be passed as -D flags: {bad}")
    return " ".join(f"-D{key}={value}" for key, value in sorted(conf.items()))


def render_spark_defaults(conf: Mapping[str, str]) -> str:
    """spark-defaults.conf text (one `key value` per line, sorted for stable diffs)."""
    return "".join(f"{key} {value}\n" for key, value in sorted(conf.items()))


def pyiceberg_properties(settings: Settings) -> dict[str, str]:
    """Properties for `pyiceberg.catalog.load_catalog(settings.catalog.name, **props)`.

    PyIceberg is the independent reader (tests, `query --fast`); the catalog name must equal
    Spark's because the SQL catalog keys its rows by name.
    """
    catalog, storage = settings.catalog, settings.storage
    props: dict[str, str] = {"warehouse": storage.warehouse_uri}
    if catalog.kind is CatalogKind.SQLITE:
        props |= {"type": "sql", "uri": f"sqlite:///{catalog.uri}"}
    else:
        props |= {"type": "hive", "uri": catalog.uri}
    s3 = storage.s3
    props["s3.region"] = s3.region
    if s3.endpoint:
        props["s3.endpoint"] = s3.endpoint
    if s3.path_style:
        props["s3.force-virtual-addressing"] = "false"
    if s3.access_key and s3.secret_key:
        props["s3.access-key-id"] = s3.access_key.get_secret_value()
        props["s3.secret-access-key"] = s3.secret_key.get_secret_value()
    return props


@dataclass(frozen=True)
class MetastoreDatabase:
    jdbc_url: str
    user: str
    # Hadoop Configuration expands ${env.NAME}: the password never lands in a config file.
    password: str = "${env.METASTORE_DB_PASSWORD}"


def metastore_site(settings: Settings, db: MetastoreDatabase, port: int) -> dict[str, str]:
    """metastore-site.xml properties for a Hive Metastore 3.1 serving these settings."""
    props = {
        "metastore.thrift.port": str(port),
        "metastore.warehouse.dir": settings.storage.warehouse_uri.replace("s3://", "s3a://", 1),
        "javax.jdo.option.ConnectionURL": db.jdbc_url,
        "javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "javax.jdo.option.ConnectionUserName": db.user,
        "javax.jdo.option.ConnectionPassword": db.password,
        # The schema is created by schematool, never by DataNucleus at run time.
        "datanucleus.autoCreateSchema": "false",
        "metastore.schema.verification": "true",
        "metastore.expression.proxy": (
            "org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy"
        ),
        # The 3.1.3 standalone tarball lacks the LMAX disruptor jar (async logging) and the
        # repl.DumpDirCleanerTask class named in the default task list (it is in hive-exec):
        # with the defaults the server dies at start with NoClassDefFoundError / MetaException.
        "metastore.async.log.enabled": "false",
        # AcidHouseKeeperService expires locks whose holder stopped heartbeating (3.1 only
        # runs it with the compactor on). Without it, a commit lock left by a client that was
        # cut off mid-commit (metastore stopped, driver killed) blocks every later commit to
        # that table, across restarts. It drops locks idle for metastore.txn.timeout (300 s,
        # above Iceberg's 240 s heartbeat), checking every minute.
        "metastore.task.threads.always": (
            "org.apache.hadoop.hive.metastore.events.EventCleanerTask,"
            "org.apache.hadoop.hive.metastore.RuntimeStatsCleanerTask,"
            "org.apache.hadoop.hive.metastore.txn.AcidHouseKeeperService"
        ),
        "metastore.timedout.txn.reaper.interval": "60s",
        # No stats / compactor threads: Iceberg tables do not use them.
        "metastore.stats.autogather": "false",
        "metastore.compactor.initiator.on": "false",
    }
    if uses_s3(settings):
        props |= s3a_properties(settings)
        if props["fs.s3a.aws.credentials.provider"] == DEFAULT_CREDENTIALS:
            props["fs.s3a.aws.credentials.provider"] = METASTORE_DEFAULT_CREDENTIALS
    return props


def render_hadoop_xml(props: Mapping[str, str]) -> str:
    """A Hadoop-style configuration XML document (metastore-site.xml, core-site.xml)."""
    from xml.sax.saxutils import escape

    body = "".join(
        f"  <property>\n    <name>{escape(k)}</name>\n"
        f"    <value>{escape(v)}</value>\n  </property>\n"
        for k, v in sorted(props.items())
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{body}</configuration>\n'
