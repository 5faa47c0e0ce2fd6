"""The driver's class-data sharing archive: used when `lakehouse setup` built it, harmless
when it does not fit (spark/session.py, cli/cds.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.java import find_java
from spark import session
from tests.tools import require_tool

pytestmark = pytest.mark.spark


def test_the_driver_maps_its_classes_from_the_archive(spark: Any) -> None:
    archive = session.cds_archive()
    require_tool(archive.exists(), f"no CDS archive at {archive}: run `lakehouse setup`")
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = list(runtime.getInputArguments())
    assert f"-XX:SharedArchiveFile={archive}" in arguments
    # The same JVM options and class path, with sharing required (-Xshare:on refuses to
    # start on an archive that does not fit) and every class load logged with its source.
    kept = [a for a in arguments if a.startswith(("-XX:SharedArchiveFile", "--add-"))]
    classpath = spark.sparkContext._jvm.System.getProperty("java.class.path")
    command = [find_java(), "-Xshare:on", "-Xlog:class+load=info", *kept, "-cp", classpath]
    command += ["org.apache.spark.deploy.SparkSubmit", "--version"]
    out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    shared = "source: shared objects file (top)"  # (top): the archive, not the JDK's own
    assert f"org.apache.spark.deploy.SparkSubmit {shared}" in out.stdout


def test_an_archive_that_does_not_fit_is_ignored_silently(tmp_path: Path) -> None:
    archive = session.cds_archive()
    require_tool(archive.exists(), f"no CDS archive at {archive}: run `lakehouse setup`")
    # Another class path than the one the archive was built with, as after an upgrade.
    java, other = find_java(), ["-cp", str(tmp_path), "-version"]
    loud = subprocess.run(
        [java, f"-XX:SharedArchiveFile={archive}", *other], capture_output=True, text=True
    )
    assert "Unable to use shared archive" in loud.stdout  # the JVM's default, on stdout
    quiet = subprocess.run(
        [java, f"-XX:SharedArchiveFile={archive}", *session.CDS_QUIET.split(), *other],
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0
    assert quiet.stdout == ""
    assert all(line.startswith(("openjdk", "OpenJDK")) for line in quiet.stderr.splitlines())


def test_sessions_ask_for_the_archive_only_when_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    archive = tmp_path / "driver.jsa"
    monkeypatch.setattr(session, "cds_archive", lambda: archive)
    assert "SharedArchiveFile" not in session._driver_java_options("error", "")
    archive.write_bytes(b"")
    options = session._driver_java_options("error", "")
    assert f"-XX:SharedArchiveFile={archive} {session.CDS_QUIET}" in options
    # The run that builds the archive must not map one.
    building = session._driver_java_options("error", "-XX:ArchiveClassesAtExit=/x.jsa")
    assert "SharedArchiveFile" not in building
