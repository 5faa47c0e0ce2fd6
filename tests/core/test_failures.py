"""A run's exception becomes one line naming the service that went away, or is left alone.

No Spark here: the services are loopback sockets that listen or do not. The real faults
(the metastore or S3Proxy stopped mid-run) are in tests/stack/test_service_faults.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import runtimes
from core.errors import ConfigError, ServiceUnavailable
from core.failures import RunContext, service_failure
from core.settings import LocalStackSettings, Settings, render_settings_toml

METASTORE_TRACE = (
    "An error occurred while calling o118.sql.\n"
    ": java.lang.RuntimeException: Failed to get table info from metastore logs.access_logs\n"
    "\tat org.apache.iceberg.hive.HiveTableOperations.doRefresh(HiveTableOperations.java:1)\n"
    "Caused by: MetaException(message:Could not connect to meta store using any of the URIs "
    "provided. Most recent failure: org.apache.thrift.transport.TTransportException: "
    "java.net.ConnectException: Connection refused"
)


@pytest.fixture
def listeners() -> Iterator[list[int]]:
    """Three loopback ports that accept connections (master, metastore, S3) while open."""
    socks = []
    for _ in range(3):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        socks.append(sock)
    yield [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _settings(master: int, metastore: int, s3: int) -> Settings:
    stack = LocalStackSettings(spark_master_port=master, metastore_port=metastore, s3_port=s3)
    return runtimes.local_stack(stack)


def test_a_service_that_does_not_answer_is_named_with_its_setting_and_the_fix(
    listeners: list[int],
) -> None:
    master, _, s3 = listeners
    dead = _closed_port()
    context = RunContext(_settings(master, dead, s3), stage="write reports")
    # The error text does not matter: the probe finds the service that is gone.
    found = service_failure(RuntimeError("Lost task 1.3 in stage 15.0: UnknownReason"), context)
    assert isinstance(found, ServiceUnavailable)
    message = str(found)
    assert "\n" not in message
    assert message.startswith("the ETL run failed during 'write reports': ")
    assert f"the Hive Metastore at thrift://127.0.0.1:{dead} (setting 'catalog.uri')" in message
    assert "S3" not in message and "Spark master" not in message
    assert "`lakehouse stack up`" in message
    assert "run the ETL again" in message


def test_a_service_back_by_the_time_the_error_surfaces_is_named_from_the_trace(
    listeners: list[int],
) -> None:
    context = RunContext(_settings(*listeners), stage="write rows")
    found = service_failure(RuntimeError(METASTORE_TRACE), context)
    assert found is not None
    assert "lost its connection to the Hive Metastore at thrift://127.0.0.1:" in str(found)

    s3 = listeners[2]
    s3_trace = f"SdkClientException: Unable to execute HTTP request: Connect to 127.0.0.1:{s3}"
    found = service_failure(OSError(s3_trace), context)
    assert found is not None
    assert f"the S3 endpoint at http://127.0.0.1:{s3}" in str(found)


def test_other_errors_are_left_alone(listeners: list[int]) -> None:
    context = RunContext(_settings(*listeners))
    assert service_failure(ValueError("division by zero"), context) is None
    # Already actionable: printed as it is.
    assert service_failure(ConfigError("bad setting"), context) is None
    # A command that failed before it had settings.
    assert service_failure(RuntimeError(METASTORE_TRACE), RunContext()) is None


def test_cause_chain_is_searched(listeners: list[int]) -> None:
    context = RunContext(_settings(*listeners))
    try:
        try:
            raise RuntimeError(METASTORE_TRACE)
        except RuntimeError as inner:
            raise ValueError("while writing reports") from inner
    except ValueError as outer:
        found = service_failure(outer, context)
    assert found is not None
    assert str(found).startswith("the command failed: it lost its connection to the Hive")


def test_cli_names_the_unreachable_metastore_in_one_line(tmp_path: Path) -> None:
    """`lakehouse etl` against a local stack whose metastore is down: exit 2, one line."""
    dead = _closed_port()
    with socket.socket() as master, socket.socket() as s3:
        for sock in (master, s3):
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
        settings = _settings(master.getsockname()[1], dead, s3.getsockname()[1])
        config = tmp_path / "settings.toml"
        config.write_text(render_settings_toml(settings))
        proc = subprocess.run(
            [sys.executable, "-c", "from cli.app import main; main()", "etl", "-c", config],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        f"error: cannot reach the Hive Metastore at thrift://127.0.0.1:{dead}"
    )
    assert "`lakehouse stack up`" in lines[0]
    # Piped, the CLI says which stage it was in.
    assert proc.stdout.splitlines() == ["stage: start Spark"]
