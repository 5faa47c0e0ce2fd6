"""Build the Spark session from settings: the only place a SparkSession is configured."""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from core import jars
from core.java import check_java
from core.preflight import check_reachable
from core.properties import catalog_properties, jar_sets, spark_conf
from core.settings import Settings


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
