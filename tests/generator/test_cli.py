"""`python -m generator`: flags, --config, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import runtimes
from core.settings import EtlSettings, render_settings_toml
from generator.__main__ import main
from tests.generator.conftest import gz_files, read_lines

REPO = Path(__file__).resolve().parents[2]


def test_cli_writes_the_requested_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            str(tmp_path),
            "--start",
            "2024-10-07",
            "--days",
            "1",
            "--lines",
            "3000",
            "--seed",
            "9",
            "--files-per-hour",
            "2",
            "--utc-offset=-09:30",
            "--host",
            "web-2",
            "--workers",
            "1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote 3,000 lines in 48 files")
    files = gz_files(tmp_path)
    assert len(files) == 48
    assert all(p.name.startswith("access-web-2-20241007") for p in files)
    assert "-0930]" in read_lines(files[0])[0]


def test_cli_takes_destination_and_s3_settings_from_a_config_file(tmp_path: Path) -> None:
    settings = runtimes.embedded(tmp_path / "root")
    config = tmp_path / "settings.toml"
    config.write_text(render_settings_toml(settings))
    assert (
        main(
            [
                "--config",
                str(config),
                "--start",
                "2024-10-07",
                "--days",
                "1",
                "--lines",
                "500",
                "--workers",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert len(gz_files(tmp_path / "root" / "input")) > 0


def _config_with_format(tmp_path: Path, log_format: str) -> Path:
    settings = runtimes.embedded(tmp_path / "root")
    settings = settings.model_copy(update={"etl": EtlSettings(log_format=log_format)})
    config = tmp_path / "settings.toml"
    config.write_text(render_settings_toml(settings))
    return config


ONE_DAY = ["--start", "2024-10-07", "--days", "1", "--lines", "200", "--workers", "1", "--quiet"]


@pytest.mark.parametrize(
    ("configured", "flag", "fields"),
    [
        # The ETL parses what the settings say: the generator writes the same by default.
        ("timed", [], 12),  # main + $request_time $upstream_response_time
        ("main", [], 10),  # + "$http_x_forwarded_for"
        ("timed", ["--log-format", "combined"], 9),  # the flag wins
    ],
)
def test_cli_writes_the_configured_log_format(
    tmp_path: Path, configured: str, flag: list[str], fields: int
) -> None:
    config = _config_with_format(tmp_path, configured)
    assert main(["--config", str(config), *ONE_DAY, *flag]) == 0
    line = read_lines(gz_files(tmp_path / "root" / "input")[0])[0]
    # Fields of a combined-style line: quoted strings and [time] count as one each.
    assert len(re.findall(r'"[^"]*"|\[[^\]]*\]|\S+', line)) == fields, line


def test_a_format_string_of_ones_own_needs_a_named_format_to_generate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config_with_format(
        tmp_path, '$remote_addr [$time_local] "$request" $status $body_bytes_sent'
    )
    assert main(["--config", str(config), *ONE_DAY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --log-format NAME" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "days must be between"),
        (["--start", "2024-10-07"], "give a destination or --config"),
        (["gs://bucket"], "unsupported scheme"),
        (["--config", "/nonexistent/settings.toml"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if args[0].startswith("--days"):
        args = ["/tmp/unused", *args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_bad_offset_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["/tmp/unused", "--utc-offset", "5h"])
    assert exit_info.value.code == 2
    assert "not a UTC offset" in capsys.readouterr().err


def test_python_dash_m_entry_point_with_a_process_pool(tmp_path: Path) -> None:
    """The real entry point, with 2 spawned workers (they re-import the main module)."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            str(tmp_path),
            "--start",
            "2024-10-07",
            "--days",
            "1",
            "--lines",
            "4000",
            "--workers",
            "2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert sum(len(read_lines(p)) for p in gz_files(tmp_path)) == 4000
