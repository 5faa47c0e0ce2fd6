"""`lakehouse doctor` on the embedded runtime, each failure made for real (no JVM starts).

The local-stack side (metastore, S3 endpoint, Spark master stopped) is in
tests/stack/test_doctor_stack.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.doctor import Status, identity_check, s3_settings_check, spark_check
from core import runtimes
from core.settings import S3Settings, Settings, render_settings_toml

EMBEDDED_CHECKS = [
    "java",
    "jars",
    "catalog",
    "object store (warehouse)",
    "object store (processed)",
    "object store (input)",
    "spark master",
    "identity",
]


def doctor(*args: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = CliRunner().invoke(app, ["doctor", "--format", "json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] == (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in payload["checks"]}


def failing(checks: dict[str, dict[str, str]]) -> set[str]:
    return {name for name, c in checks.items() if c["status"] == "fail"}


def with_config(tmp_path: Path, settings: Settings) -> str:
    path = tmp_path / "settings.toml"
    path.write_text(render_settings_toml(settings))
    return str(path)


def test_embedded_runtime_passes(tmp_path: Path) -> None:
    code, checks = doctor("--root", str(tmp_path / "lake"))
    assert code == 0
    assert list(checks) == EMBEDDED_CHECKS
    assert {c["status"] for c in checks.values()} == {"ok"}
    assert (
        checks["spark master"]["detail"]
        == f"local[*]: {len(os.sched_getaffinity(0))} core(s) available"
    )
    # The probe leaves nothing behind.
    assert not list((tmp_path / "lake" / "warehouse").iterdir())


def test_table_on_a_terminal_names_every_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["doctor", "--root", str(tmp_path)])
    assert result.exit_code == 0
    for name in EMBEDDED_CHECKS:
        assert name in result.stdout


def test_java_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, checks = doctor("--root", str(tmp_path))
    assert code == 2
    assert failing(checks) == {"java"}
    assert "openjdk-17" in checks["java"]["fix"]


def test_java_too_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "jdk11" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk11"))
    code, checks = doctor("--root", str(tmp_path))
    assert code == 2
    assert failing(checks) == {"java"}
    assert '"11.0.2"' in checks["java"]["fix"]


def test_jars_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-jars"
    empty.mkdir()
    monkeypatch.setenv("LAKEHOUSE_JAR_CACHE", str(empty))
    code, checks = doctor("--root", str(tmp_path / "lake"))
    assert code == 2
    assert failing(checks) == {"jars"}
    assert "iceberg-spark-runtime" in checks["jars"]["detail"]
    assert "sqlite-jdbc" in checks["jars"]["detail"]
    assert "lakehouse setup" in checks["jars"]["fix"]


def test_catalog_directory_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    base = runtimes.embedded(tmp_path / "lake")
    settings = base.model_copy(
        update={"catalog": base.catalog.model_copy(update={"uri": str(blocker / "catalog.db")})}
    )
    code, checks = doctor("--config", with_config(tmp_path, settings))
    assert code == 2
    assert failing(checks) == {"catalog"}
    assert "catalog.uri" in checks["catalog"]["fix"]


def test_warehouse_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    base = runtimes.embedded(tmp_path / "lake")
    storage = base.storage.model_copy(update={"warehouse_uri": f"file://{blocker}/warehouse"})
    code, checks = doctor(
        "--config", with_config(tmp_path, base.model_copy(update={"storage": storage}))
    )
    assert code == 2
    assert failing(checks) == {"object store (warehouse)"}
    assert checks["object store (warehouse)"]["detail"].startswith("write of a probe object")


# --- checks that need no service ---------------------------------------------------------
def aws_settings() -> Settings:
    return runtimes.aws(
        input_bucket="in",
        warehouse_bucket="wh",
        processed_bucket="pr",
        region="eu-west-1",
        metastore_host="metastore",
        spark_master_host="spark-master",
    )


class FakeSts:
    def __init__(self, answer: dict[str, str] | Exception) -> None:
        self.answer = answer

    def get_caller_identity(self) -> dict[str, str]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (
            {"Arn": "arn:aws:sts::123456789012:assumed-role/lakehouse-etl/botocore-session-1"},
            Status.OK,
        ),
        ({"Arn": "arn:aws:iam::123456789012:user/alice"}, Status.WARN),
        (RuntimeError("Unable to locate credentials"), Status.FAIL),
    ],
    ids=["assumed-role", "iam-user", "no-credentials"],
)
def test_aws_identity_is_the_callers_arn(answer: Any, status: Status) -> None:
    # Not testable against AWS here: STS is replaced by its answer's shape.
    check = identity_check(aws_settings(), sts=lambda _settings: FakeSts(answer))
    assert check.status is status
    if status is Status.OK:
        assert check.detail.endswith("assumed-role/lakehouse-etl/botocore-session-1")


def test_aws_identity_without_boto3_is_skipped_not_passed() -> None:
    def no_boto3(_settings: Settings) -> Any:
        raise ImportError("No module named 'boto3'")

    check = identity_check(aws_settings(), sts=no_boto3)
    assert check.status is Status.SKIP
    assert "boto3" in check.fix


def test_s3_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    base = aws_settings()

    def with_s3(**s3: Any) -> Settings:
        storage = base.storage.model_copy(update={"s3": S3Settings(**s3)})
        return base.model_copy(update={"storage": storage})

    assert s3_settings_check(with_s3()).status is Status.OK
    # A literal IP as endpoint cannot serve <bucket>.<host>.
    assert s3_settings_check(with_s3(endpoint="http://127.0.0.1:9000")).status is Status.FAIL
    assert s3_settings_check(with_s3(endpoint="https://minio.example")).status is Status.WARN
    assert s3_settings_check(with_s3(path_style=True)).status is Status.WARN
    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "sometimes")
    check = s3_settings_check(with_s3())
    assert check.status is Status.FAIL
    assert "AWS_REQUEST_CHECKSUM_CALCULATION" in check.fix


def test_local_master_with_more_threads_than_cores_warns(tmp_path: Path) -> None:
    base = runtimes.embedded(tmp_path)
    settings = base.model_copy(
        update={"spark": base.spark.model_copy(update={"master": "local[100000]"})}
    )
    assert spark_check(settings, None).status is Status.WARN
