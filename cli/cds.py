"""`lakehouse setup` builds the driver JVM's class-data sharing archive (spark/session.py).

The JVM writes the classes it loaded to `-XX:ArchiveClassesAtExit` when it exits, so the
archive holds what the run that built it used: a small ETL of generated lines, which loads
what an hourly run loads (parse, MERGE, aggregates, reports, the ledger). Nothing here is
needed for a run to work: without an archive, sessions start as they always did.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from pyspark import SparkContext

from core import runtimes
from generator import TrafficSpec, generate
from spark.job import run_etl
from spark.session import CDS_QUIET, build_session, cds_archive

# Enough lines for every report to have rows; the archive does not grow with them.
LINES = 3_000


def build_archive() -> Path:
    """The archive for this JDK and pyspark, built now unless it exists."""
    archive = cds_archive()
    if archive.exists():
        return archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a session never maps a half-written archive.
    partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
    try:
        _run_recording_to(partial)
        if not partial.exists():
            raise RuntimeError(f"the JVM wrote no archive to {partial}")
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)  # a failed build leaves nothing behind
    return archive


def _run_recording_to(partial: Path) -> None:
    """A small embedded ETL in a JVM that writes the classes it loaded to `partial`."""
    with tempfile.TemporaryDirectory(prefix="lakehouse-cds-") as work:
        settings = runtimes.embedded(Path(work))
        options = f"-XX:ArchiveClassesAtExit={partial} {CDS_QUIET}"
        spark_settings = settings.spark.model_copy(
            update={"conf": {**settings.spark.conf, "spark.driver.extraJavaOptions": options}}
        )
        settings = settings.model_copy(update={"spark": spark_settings})
        spec = TrafficSpec(start=date(2024, 1, 1), days=2, lines=LINES, seed=1)
        generate(spec, settings.storage.input_uri)
        spark = build_session(settings)
        try:
            run_etl(settings, spark=spark)
        finally:
            spark.stop()
            _stop_jvm()


def _stop_jvm() -> None:
    """End the driver JVM and wait for it: it writes the archive as it exits."""
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = gateway.proc
    gateway.shutdown()
    SparkContext._gateway = SparkContext._jvm = None
    process.stdin.close()  # pyspark's gateway server exits when its stdin closes
    process.wait(timeout=300)
