"""Settings: one model for three runtimes; bad values fail fast naming the setting."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core import runtimes
from core.config import resolve_settings
from core.errors import ConfigError
from core.properties import THROUGHPUT_GC, jar_sets, pyiceberg_properties, spark_conf
from core.settings import (
    LocalStackSettings,
    Settings,
    load_settings_file,
    render_settings_toml,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


@pytest.fixture
def embedded_toml(tmp_path: Path) -> str:
    return render_settings_toml(runtimes.embedded(tmp_path))


def _aws() -> Settings:
    return runtimes.aws(
        input_bucket="in",
        warehouse_bucket="wh",
        processed_bucket="pr",
        region="eu-west-1",
        metastore_host="hms.svc",
        spark_master_host="master.svc",
    )


def test_every_runtime_round_trips_through_toml(tmp_path: Path) -> None:
    for settings in (
        runtimes.embedded(tmp_path),
        runtimes.local_stack(LocalStackSettings()),
        _aws(),
    ):
        assert load_settings_file(_write(tmp_path, render_settings_toml(settings))) == settings


def test_unknown_key_is_named(tmp_path: Path, embedded_toml: str) -> None:
    path = _write(tmp_path, embedded_toml.replace("[etl]\n", "[etl]\ntop_m = 3\n"))
    with pytest.raises(ConfigError, match=r"unknown setting 'etl.top_m'"):
        load_settings_file(path)


def test_wrong_type_is_named(tmp_path: Path, embedded_toml: str) -> None:
    path = _write(tmp_path, embedded_toml.replace("top_n = 10", 'top_n = "ten"'))
    with pytest.raises(ConfigError, match=r"setting 'etl.top_n'"):
        load_settings_file(path)


def test_bad_uri_scheme_is_named(tmp_path: Path, embedded_toml: str) -> None:
    path = _write(tmp_path, embedded_toml.replace('input_uri = "file://', 'input_uri = "hdfs://'))
    with pytest.raises(ConfigError, match=r"setting 'storage.input_uri'.*file:/, s3://"):
        load_settings_file(path)


def test_unknown_runtime_and_missing_file() -> None:
    with pytest.raises(ConfigError, match="unknown runtime 'cloud'"):
        resolve_settings("cloud")
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_settings(config=Path("/nonexistent/settings.toml"))


def test_embedded_uses_a_sqlite_catalog_and_no_s3_jars(tmp_path: Path) -> None:
    settings = runtimes.embedded(tmp_path)
    conf = spark_conf(settings)
    assert conf["spark.sql.catalog.lakehouse.type"] == "jdbc"
    assert conf["spark.sql.catalog.lakehouse.uri"] == f"jdbc:sqlite:{tmp_path}/catalog.db"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert jar_sets(settings) == ["spark", "sqlite"]
    assert not any(key.startswith("spark.hadoop.fs.s3a") for key in conf)
    assert pyiceberg_properties(settings)["uri"] == f"sqlite:///{tmp_path}/catalog.db"


def test_local_stack_uses_the_metastore_and_s3_endpoint() -> None:
    stack = LocalStackSettings(metastore_port=29083, s3_port=29000)
    conf = spark_conf(runtimes.local_stack(stack))
    assert conf["spark.sql.catalog.lakehouse.uri"] == "thrift://127.0.0.1:29083"
    assert conf["spark.sql.catalog.lakehouse.s3.endpoint"] == "http://127.0.0.1:29000"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:29000"
    assert conf["spark.hadoop.fs.s3a.directory.marker.retention"] == "keep"
    assert conf["spark.master"] == f"spark://127.0.0.1:{stack.spark_master_port}"


def test_aws_relies_on_irsa_not_static_keys() -> None:
    conf = spark_conf(_aws())
    assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith(
        "DefaultCredentialsProvider"
    )
    assert not any("secret" in key for key in conf)
    assert "spark.driver.host" not in conf  # the job pod's IP, set by the workload


def _with_executor_options(settings: Settings, options: str) -> Settings:
    spark = settings.spark.model_copy(update={"conf": {"spark.executor.extraJavaOptions": options}})
    return settings.model_copy(update={"spark": spark})


def test_executors_run_the_throughput_collector_unless_the_settings_choose_one() -> None:
    settings = runtimes.local_stack(LocalStackSettings())
    assert spark_conf(settings)["spark.executor.extraJavaOptions"] == THROUGHPUT_GC
    other = spark_conf(_with_executor_options(settings, "-Xss4m -XX:+UseGCOverheadLimit"))
    assert other["spark.executor.extraJavaOptions"].split() == [
        THROUGHPUT_GC,
        "-Xss4m",
        "-XX:+UseGCOverheadLimit",
    ]
    chosen = spark_conf(_with_executor_options(settings, "-XX:+UseG1GC -Xss4m"))
    assert chosen["spark.executor.extraJavaOptions"] == "-XX:+UseG1GC -Xss4m"


def test_cluster_drivers_start_with_the_quick_jit_and_the_embedded_one_does_not(
    tmp_path: Path,
) -> None:
    """A cluster's driver leaves the rows to the executors (C1 only); the embedded driver
    processes them itself (C2 kept). The flag reaches the driver JVM with our own options."""
    from spark.session import _driver_java_options

    for settings in (runtimes.local_stack(LocalStackSettings()), _aws()):
        configured = spark_conf(settings)["spark.driver.extraJavaOptions"]
        assert configured == "-XX:TieredStopAtLevel=1"
        options = _driver_java_options("error", configured).split()
        assert options.count("-XX:TieredStopAtLevel=1") == 1
        assert THROUGHPUT_GC in options
    embedded = spark_conf(runtimes.embedded(tmp_path))
    assert "TieredStopAtLevel" not in embedded.get("spark.driver.extraJavaOptions", "")
    assert "TieredStopAtLevel" not in embedded["spark.executor.extraJavaOptions"]


def test_cli_prints_one_line_and_exits_2_on_bad_config(tmp_path: Path, embedded_toml: str) -> None:
    path = _write(tmp_path, embedded_toml + "\n[surprise]\nx = 1\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cli.app import main; main()",
            "etl",
            "--config",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: unknown setting 'surprise' (check the spelling)"
    ]
    assert not (tmp_path / "warehouse").exists()


def test_unreachable_services_are_named_before_spark_starts() -> None:
    from core.errors import ServiceUnavailable
    from core.preflight import check_reachable

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    stack = LocalStackSettings(spark_master_port=free, metastore_port=free, s3_port=free)
    with pytest.raises(
        ServiceUnavailable,
        match=r"Spark master at spark://127.0.0.1:\d+ \(setting 'spark.master'\)",
    ):
        check_reachable(runtimes.local_stack(stack), timeout=0.5)


def test_event_time_window_defaults_and_toml_form(embedded_toml: str) -> None:
    assert "min_event_time = 2000-01-01T00:00:00+00:00\n" in embedded_toml
    assert 'max_future_skew = "P1D"\n' in embedded_toml
    window = runtimes.embedded(Path("/x")).etl.event_time_window(
        datetime(2024, 10, 7, 6, 30, tzinfo=UTC)
    )
    assert window == (
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2024, 10, 8, 6, 30, tzinfo=UTC),
    )


def test_event_time_window_settings_in_other_forms(tmp_path: Path, embedded_toml: str) -> None:
    text = embedded_toml.replace(
        "min_event_time = 2000-01-01T00:00:00+00:00", 'min_event_time = "2010-06-01T02:00:00+02:00"'
    ).replace('max_future_skew = "P1D"', 'max_future_skew = "PT6H"')
    etl = load_settings_file(_write(tmp_path, text)).etl
    assert etl.min_event_time == datetime(2010, 6, 1, 0, 0, tzinfo=UTC)
    assert etl.max_future_skew == timedelta(hours=6)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "min_event_time = 2000-01-01T00:00:00",
            r"setting 'etl.min_event_time'.*UTC offset.*\(got 2000-01-01T00:00:00, which has no",
        ),
        (
            "min_event_time = 2000-01-01",
            r"setting 'etl.min_event_time'.*UTC offset.*\(got 2000-01-01, which has no offset",
        ),
        ('min_event_time = "last year"', r"setting 'etl.min_event_time'.*\(got 'last year'\)"),
        (
            "min_event_time = 2999-01-01T00:00:00Z",
            r"setting 'etl.min_event_time'.*must be in the past, or every line is rejected",
        ),
        ('max_future_skew = "-PT1H"', r"setting 'etl.max_future_skew'.*P0D to P366D.*'-PT1H'"),
        ('max_future_skew = "P400D"', r"setting 'etl.max_future_skew'.*P0D to P366D.*'P400D'"),
        ('max_future_skew = "a day"', r"setting 'etl.max_future_skew'.*e\.g\. P1D.*'a day'"),
    ],
)
def test_bad_event_time_window_is_named(
    tmp_path: Path, embedded_toml: str, line: str, message: str
) -> None:
    key = line.split(" ", 1)[0]
    kept = [x for x in embedded_toml.splitlines() if not x.startswith(f"{key} =")]
    text = "\n".join(kept).replace("[etl]", f"[etl]\n{line}")
    with pytest.raises(ConfigError, match=message):
        load_settings_file(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        ("etl", "slow_request_seconds = 0", r"setting 'etl.slow_request_seconds'.*greater than 0"),
        ("etl", "slow_request_seconds = 7200", r"'etl.slow_request_seconds'.*less than or equal"),
        ("reports", 'site_hosts = ["https://example.com"]', r"'reports.site_hosts'.*host names"),
        ("reports", 'site_hosts = ["example.com:8080"]', r"'reports.site_hosts'.*host names"),
        ("reports", 'site_hosts = "example.com"', r"setting 'reports.site_hosts'"),
    ],
)
def test_bad_report_settings_are_named(
    tmp_path: Path, embedded_toml: str, section: str, line: str, message: str
) -> None:
    key = line.split(" ", 1)[0]
    kept = "\n".join(x for x in embedded_toml.splitlines() if not x.startswith(f"{key} ="))
    text = kept.replace(f"[{section}]", f"[{section}]\n{line}", 1)
    assert line in text
    with pytest.raises(ConfigError, match=message):
        load_settings_file(_write(tmp_path, text))


def test_report_settings_in_a_file(tmp_path: Path, embedded_toml: str) -> None:
    text = embedded_toml.replace("slow_request_seconds = 1.0", "slow_request_seconds = 0.25")
    text = text.replace("site_hosts = []", 'site_hosts = ["WWW.Example.com", "example.com"]')
    settings = load_settings_file(_write(tmp_path, text))
    assert settings.etl.slow_request_seconds == 0.25
    # Host names compare case-insensitively, as DNS does.
    assert settings.reports.site_hosts == ("www.example.com", "example.com")
