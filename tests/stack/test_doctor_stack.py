"""`lakehouse doctor --runtime local` against the running local stack, and with each service
the run needs stopped by PID (the stack's own `stop`), then started again with `up`.

In-process: doctor starts no JVM, only `java -version`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from core.config import STACK_CONFIG_ENV
from tests.stack.conftest import WORKERS, StackHandle

pytestmark = [pytest.mark.stack, pytest.mark.slow]

LOCAL_CHECKS = [
    "java",
    "jars",
    "catalog",
    "catalog locks",
    "object store (warehouse)",
    "object store (processed)",
    "object store (input)",
    "s3 settings",
    "spark master",
    "identity",
]


@pytest.fixture
def stack(stack_handle: StackHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackHandle]:
    """The shared stack, named by $LAKEHOUSE_STACK_CONFIG; every service up after the test."""
    monkeypatch.setenv(STACK_CONFIG_ENV, str(stack_handle.config_file))
    yield stack_handle
    stack_handle.stack.up()
    stack_handle.remember()


def doctor() -> tuple[int, dict[str, dict[str, str]]]:
    result = CliRunner().invoke(app, ["doctor", "--runtime", "local", "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    payload = json.loads(result.stdout)
    assert payload["runtime"] == "local"
    assert payload["ok"] == (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in payload["checks"]}


def failing(checks: dict[str, dict[str, str]]) -> set[str]:
    return {name for name, c in checks.items() if c["status"] == "fail"}


def test_running_stack_passes(stack: StackHandle) -> None:
    code, checks = doctor()
    assert code == 0, checks
    assert list(checks) == LOCAL_CHECKS
    assert {c["status"] for c in checks.values()} == {"ok"}
    s = stack.settings
    master = checks["spark master"]["detail"]
    assert f"spark://127.0.0.1:{s.spark_master_port} is ALIVE" in master
    cores = WORKERS * s.worker_cores
    assert f"{WORKERS} alive worker(s), {cores} of {cores} cores free" in master
    assert f"thrift://127.0.0.1:{s.metastore_port} answers" in checks["catalog"]["detail"]
    assert "path-style" in checks["s3 settings"]["detail"]


@pytest.mark.parametrize(
    ("service", "failed", "named"),
    [
        ("metastore", {"catalog"}, "Hive Metastore at thrift://127.0.0.1:{metastore_port}"),
        (
            "s3proxy",
            {"object store (warehouse)", "object store (processed)", "object store (input)"},
            "http://127.0.0.1:{s3_port}",
        ),
        ("spark-master", {"spark master"}, "Spark master at spark://127.0.0.1:{spark_master_port}"),
    ],
    ids=["metastore", "s3proxy", "spark-master"],
)
def test_stopped_service_is_named(
    stack: StackHandle, service: str, failed: set[str], named: str
) -> None:
    assert stack.stack.service(service).stop() in {"stopped", "killed"}
    code, checks = doctor()
    assert code == 2
    assert failing(checks) == failed
    where = named.format(**stack.settings.model_dump())
    for name in failed:
        text = checks[name]["detail"] + " " + checks[name]["fix"]
        assert where in text, checks[name]
        assert "lakehouse stack up" in checks[name]["fix"]
    if service == "metastore":
        assert checks["catalog locks"]["status"] == "skip"


def test_java_and_jars_missing_on_the_stack(
    stack: StackHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # Undone before the fixture's `up`, which needs Java and the jars.
    with monkeypatch.context() as env:
        env.delenv("JAVA_HOME", raising=False)
        env.setenv("PATH", str(empty))
        env.setenv("LAKEHOUSE_JAR_CACHE", str(empty))
        code, checks = doctor()
    assert code == 2
    assert failing(checks) == {"java", "jars"}
    # The stack's runtime needs the S3 jars too.
    assert "hadoop-aws-" in checks["jars"]["detail"]
