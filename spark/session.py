"""Build the Spark session from settings: the only place a SparkSession is configured."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from pyspark import SparkConf, SparkContext, find_spark_home
from pyspark.java_gateway import launch_gateway
from pyspark.sql import SparkSession

from core import jars
from core.java import check_java, java_version_text
from core.preflight import check_reachable
from core.properties import catalog_properties, jar_sets, spark_conf, with_collector
from core.settings import Settings

# Console logging of the driver JVM (the level is a system property it reads).
LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")
# The JDK prints this for the `--add-modules=jdk.incubator.vector` that Spark's launcher
# always passes, before any Java code runs: no JVM option or log4j level turns it off.
JDK_NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector"


# Class-data sharing (CDS): the driver JVM maps the classes a run loads, parsed and verified,
# from an archive instead of reading them from ~290 jars. Measured on a one-file run: 5-11 s
# of 45-75 s wall (docs/benchmarks.md). `lakehouse setup` builds the archive (cli/cds.py).
CDS_QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


def cds_archive() -> Path:
    """Where the driver's archive for this JDK and this pyspark lives.

    An archive fits one JDK build and one driver class path, so its name is a hash of both:
    another JDK or pyspark gets another file, and a stale archive is never named. The JVM
    checks it again when mapping it and runs without it if it does not fit (silently:
    CDS_QUIET).
    """
    jars_dir = Path(find_spark_home._find_spark_home()) / "jars"
    key = hashlib.sha256()
    key.update(java_version_text().encode())
    for jar in sorted(jars_dir.glob("*.jar")):
        key.update(f"{jar}:{jar.stat().st_size}\n".encode())
    return jars.cache_dir() / "cds" / f"driver-{key.hexdigest()[:16]}.jsa"


def build_session(settings: Settings) -> SparkSession:
    check_java()
    check_reachable(settings)
    conf = spark_conf(settings)
    conf["spark.jars"] = ",".join(str(p) for p in jars.require(jar_sets(settings)))
    conf["spark.driver.extraJavaOptions"] = _driver_java_options(
        settings.spark.log_level, conf.get("spark.driver.extraJavaOptions", "")
    )
    event_dir = settings.spark.event_log_dir
    if event_dir and event_dir.startswith("file:"):
        # Spark refuses to start when the event-log directory is missing. Object stores
        # have no directories; their prefix is created by the first write.
        Path("/" + event_dir.removeprefix("file:").lstrip("/")).mkdir(parents=True, exist_ok=True)
    if settings.spark.driver_host:
        # Without it Spark picks a non-loopback address for the driver on some machines.
        os.environ.setdefault("SPARK_LOCAL_IP", settings.spark.driver_host)
    if settings.spark.log_level == "error" and SparkContext._gateway is None:
        _start_quiet_gateway(conf)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.spark.log_level.upper())
    return spark


def _start_quiet_gateway(conf: dict[str, str]) -> None:
    """Start the driver JVM with its stderr read by a thread that drops only the JDK notice.

    The same launch pyspark does (spark-submit with these confs); pyspark then uses this
    gateway for the session. Everything else the JVM prints still reaches stderr.
    """
    launch_conf = SparkConf(loadDefaults=False).setAll(list(conf.items()))
    gateway = launch_gateway(launch_conf, popen_kwargs={"stderr": subprocess.PIPE})
    stderr = gateway.proc.stderr
    threading.Thread(target=_forward, args=(stderr,), name="jvm-stderr", daemon=True).start()
    SparkContext._ensure_initialized(gateway=gateway)


def _forward(stream: IO[bytes]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace")
        if line.rstrip("\n") != JDK_NOTICE:
            sys.stderr.write(line)
            sys.stderr.flush()


def _driver_java_options(log_level: str, configured: str) -> str:
    """Our log4j2 file and level ahead of any configured options (the last -D of a name wins),
    the CDS archive when there is one, and the throughput collector unless they choose one.

    A system property, not `setLogLevel` alone: that runs only after the JVM has started,
    and Spark's default profile has printed its banner and start-up warnings by then.
    """
    ours = f"-Dlog4j2.configurationFile={LOG4J2_CONFIG.as_uri()} -Dlakehouse.log.level={log_level}"
    archive = cds_archive()
    if archive.exists() and "-XX:ArchiveClassesAtExit" not in configured:
        ours += f" -XX:SharedArchiveFile={archive} {CDS_QUIET}"
    return with_collector(f"{ours} {configured}".strip())


def attach_catalog(spark: SparkSession, settings: Settings) -> None:
    """Register the settings' catalog in a running session (e.g. a second warehouse in tests).

    Catalog properties are read when a catalog is first used, so this works for a catalog
    name the session has not touched yet.
    """
    prefix = f"spark.sql.catalog.{settings.catalog.name}"
    spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
    for key, value in catalog_properties(settings).items():
        spark.conf.set(f"{prefix}.{key}", value)
