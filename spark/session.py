"""Build the Spark session from settings: the only place a SparkSession is configured."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse import jars
from lakehouse.errors import EnvironmentProblem
from lakehouse.preflight import check_reachable
from lakehouse.properties import catalog_properties, jar_sets, spark_conf
from lakehouse.settings import Settings

MIN_JAVA = 17


def check_java() -> None:
    """Fail with one actionable line when Java is missing or too old."""
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise EnvironmentProblem(
            "Java 17 is required but `java` was not found (JAVA_HOME or PATH): "
            "install it, e.g. `apt-get install openjdk-17-jre-headless`"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < MIN_JAVA:
        raise EnvironmentProblem(
            f"Java {MIN_JAVA}+ is required, found {out.splitlines()[0] if out else 'unknown'} "
            f"at {java}: install OpenJDK 17 and set JAVA_HOME"
        )


def build_session(settings: Settings) -> SparkSession:
    check_java()
    check_reachable(settings)
    conf = spark_conf(settings)
    conf["spark.jars"] = ",".join(str(p) for p in jars.require(jar_sets(settings)))
    event_dir = settings.spark.event_log_dir
    if event_dir and event_dir.startswith("file:"):
        # Spark refuses to start when the event-log directory is missing. Object stores
        # have no directories; their prefix is created by the first write.
        Path("/" + event_dir.removeprefix("file:").lstrip("/")).mkdir(parents=True, exist_ok=True)
    if settings.spark.driver_host:
        # Without it Spark picks a non-loopback address for the driver on some machines.
        os.environ.setdefault("SPARK_LOCAL_IP", settings.spark.driver_host)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def attach_catalog(spark: SparkSession, settings: Settings) -> None:
    """Register the settings' catalog in a running session (e.g. a second warehouse in tests).

    Catalog properties are read when a catalog is first used, so this works for a catalog
    name the session has not touched yet.
    """
    prefix = f"spark.sql.catalog.{settings.catalog.name}"
    spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
    for key, value in catalog_properties(settings).items():
        spark.conf.set(f"{prefix}.{key}", value)
