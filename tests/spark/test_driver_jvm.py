"""The driver JVM's collector (spark/session.py): the throughput collector unless the
settings choose one. The executors' (core/properties.py) is checked by tests/core and, in
running executors, by tests/stack."""

from __future__ import annotations

from typing import Any

import pytest

from core.properties import THROUGHPUT_GC
from spark import session


@pytest.mark.spark
def test_the_driver_runs_the_throughput_collector(spark: Any) -> None:
    management = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    collectors = {bean.getName() for bean in management.getGarbageCollectorMXBeans()}
    # The names the JDK gives the Parallel collector's young and old generations (G1's are
    # "G1 Young Generation" and "G1 Old Generation").
    assert collectors == {"PS Scavenge", "PS MarkSweep"}


@pytest.mark.parametrize("chosen", ["-XX:+UseG1GC", "-Xmx2g -XX:+UseZGC", "-XX:+UseSerialGC"])
def test_a_collector_chosen_in_the_settings_is_the_only_one(chosen: str) -> None:
    options = session._driver_java_options("error", chosen)
    assert THROUGHPUT_GC not in options
    assert options.endswith(chosen)


def test_other_configured_options_keep_the_throughput_collector() -> None:
    options = session._driver_java_options("error", "-XX:+UseGCOverheadLimit -Xss4m")
    assert THROUGHPUT_GC in options.split()
