"""Bad configuration through the real command: one line naming the cause, exit code 2,
nothing written. Every case fails before Spark starts, so the whole file runs in seconds."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from core import runtimes
from core.settings import LocalStackSettings, render_settings_toml


def _free_port() -> int:
    with socket.socket() as probe:  # bound, never listening: a connection is refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _embedded(root: Path) -> str:
    return render_settings_toml(runtimes.embedded(root))


def _edit(old: str, new: str) -> Callable[[Path], str]:
    def settings(root: Path) -> str:
        text = _embedded(root)
        assert old in text, old
        return text.replace(old, new)

    return settings


def _stack_down(root: Path) -> str:
    port = _free_port()
    stack = LocalStackSettings(spark_master_port=port, metastore_port=port, s3_port=port)
    return render_settings_toml(runtimes.local_stack(stack))


def _lakehouse_etl(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", "etl", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )


# (case, settings TOML for a root dir, the one line expected on stderr, as a regex)
CASES = [
    (
        "unknown key",
        _edit("top_n = 10", "top_n = 10\ntop_m = 3"),
        r"error: .*settings\.toml: unknown setting 'etl\.top_m' \(check the spelling\)",
    ),
    (
        "wrong type",
        _edit("top_n = 10", 'top_n = "ten"'),
        r"error: .*settings\.toml: setting 'etl\.top_n': .*integer.*",
    ),
    (
        "value out of range",
        _edit("shuffle_partitions = 8", "shuffle_partitions = 0"),
        r"error: .*settings\.toml: setting 'spark\.shuffle_partitions': .*greater than or equal "
        r"to 1",
    ),
    (
        "unknown catalog kind",
        _edit('kind = "sqlite"', 'kind = "glue"'),
        r"error: .*settings\.toml: setting 'catalog\.kind': .*'sqlite'.*'hive'.*",
    ),
    (
        "bad event-time window",
        _edit('max_future_skew = "P1D"', 'max_future_skew = "-P1D"'),
        r"error: .*settings\.toml: setting 'etl\.max_future_skew': .*",
    ),
    (
        "unreachable services",
        _stack_down,
        # The first service the preflight tries is named, with the setting and the fix.
        r"error: cannot reach the Spark master at spark://127\.0\.0\.1:\d+ "
        r"\(setting 'spark\.master'\): Connection refused .*`lakehouse stack up`.*",
    ),
]


@pytest.mark.parametrize(("case", "settings", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_setting_is_one_line_and_nothing_is_written(
    tmp_path: Path, case: str, settings: Callable[[Path], str], line: str
) -> None:
    root = tmp_path / "lake"
    config = tmp_path / "settings.toml"
    config.write_text(settings(root))
    proc = _lakehouse_etl(config, dict(os.environ))
    assert proc.returncode == 2, (case, proc.stdout, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(line, lines[0]), lines[0]
    assert not root.exists(), sorted(p.name for p in root.rglob("*"))


def test_missing_java_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    config = tmp_path / "settings.toml"
    config.write_text(_embedded(root))
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path / "no-java-here")
    proc = _lakehouse_etl(config, env)
    assert proc.returncode == 2, proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert re.fullmatch(
        r"error: Java 17 is required but `java` was not found \(JAVA_HOME or PATH\): "
        r"install it.*apt-get install openjdk-17.*",
        line,
    )
    assert not root.exists()


def test_a_bad_log_format_option_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    config = tmp_path / "settings.toml"
    config.write_text(_embedded(root))
    logs = tmp_path / "logs"
    logs.mkdir()
    bad_format = "$remote_addr [$time_local] $status"
    command = ["ingest", str(logs), "-c", str(config), "--log-format", bad_format]
    proc = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: --log-format: setting 'etl.log_format': "), line
    assert "lacks $body_bytes_sent" in line
    assert not root.exists()
