"""Every command fails cleanly: one line on stderr naming the cause (and the next step), exit
code 2, no traceback; as a new user meets it (nothing has run yet, a typo, a bad date).

The commands are enumerated from the typer app, so a new command without rows here fails
`test_every_command_has_rows`. Commands that start Spark are driven only into failures found
before a JVM starts, so no JVM starts in this file. It calls `cli.app.main` in-process (the
real entry point, with its error handling); `test_a_real_process_prints_the_same_line` checks a
few rows through `python -m cli.app` too.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from pyiceberg.catalog import load_catalog

from cli.app import app, main
from core import runtimes
from core.properties import pyiceberg_properties
from core.settings import LocalStackSettings, render_settings_toml

REPO = Path(__file__).resolve().parents[2]

NO_LAKEHOUSE = (
    r"no lakehouse at .*/empty yet \(no catalog catalog\.db\): "
    r"run `lakehouse etl` or `lakehouse demo` first"
)
BAD_CATALOG = (
    r"cannot read the catalog .*/garbage/catalog\.db: file is not a database: restore it, "
    r"or move it away and run `lakehouse etl` to start a new lakehouse"
)
BAD_DAY = (
    r"Invalid value for '--{option}': '2015-13-45' is not a day \(YYYY-MM-DD\): "
    r"month must be in 1\.\.12 \(see `lakehouse {command} --help`\)"
)
NO_CONFIG = r"config file .*/missing\.toml does not exist"
NOT_TOML = r"config file .*/broken\.toml is not valid TOML: .*"
CONFIG_IS_DIR = r"cannot read config file .*/empty-dir: Is a directory"
METASTORE_DOWN = (
    r"cannot reach the Hive Metastore at thrift://127\.0\.0\.1:\d+ \(setting 'catalog\.uri'\): "
    r".*`lakehouse stack up`.*"
)
BAD_RUNTIME = r"unknown runtime 'nope': use 'embedded' or 'local' .*"


def _no_table(name: str) -> str:
    return rf"table logs\.{name} does not exist yet: run `lakehouse etl` or `lakehouse demo` first"


@dataclass(frozen=True)
class Case:
    command: str  # as typed: "report", "stack logs"
    why: str
    args: str  # after the command; {names} are the places of the `places` fixture
    line: str  # the one stderr line after "error: ", as a regex

    @property
    def id(self) -> str:
        return f"{self.command}: {self.why}"


# Written per command: what a user can get wrong there.
ROWS = [
    Case(
        "setup",
        "unknown jar set",
        "--only nosuch",
        r"unknown jar set 'nosuch': choose from .*s3.*spark.*",
    ),
    Case(
        "generate",
        "bad date",
        "--start 2015-13-45",
        BAD_DAY.format(option="start", command="generate"),
    ),
    Case(
        "generate",
        "destination under a file",
        "--to {file}/out --days 1 --lines 10",
        r"generator: cannot write .*/a-file/out/.*Not a directory.*",
    ),
    Case(
        "generate",
        "days out of range",
        "--days 0",
        r"Invalid value for '--days': .*greater than or equal to 1 "
        r"\(see `lakehouse generate --help`\)",
    ),
    Case(
        "etl",
        "unknown option",
        "--bogus",
        r"No such option: --bogus \(see `lakehouse etl --help`\)",
    ),
    Case(
        "ingest",
        "missing path",
        "{empty}/no-such-logs --root {empty}",
        r".*/empty/no-such-logs does not exist: give a log file, a directory of them or an s3:// "
        r"prefix",
    ),
    Case("ingest", "no path", "", r"Missing argument 'source'\. \(see `lakehouse ingest --help`\)"),
    Case("rebuild-reports", "nothing ran yet", "--root {empty}", NO_LAKEHOUSE),
    Case("rebuild-reports", "unreadable catalog", "--root {garbage}", BAD_CATALOG),
    Case("rebuild-reports", "no access_logs yet", "--root {bare}", _no_table("access_logs")),
    Case("maintain", "nothing ran yet", "--root {empty}", NO_LAKEHOUSE),
    Case("maintain", "unreadable catalog", "--root {garbage}", BAD_CATALOG),
    Case("maintain", "metastore down", "-c {down}", METASTORE_DOWN),
    Case("report", "nothing ran yet", "daily_top_ips --root {empty}", NO_LAKEHOUSE),
    Case("report", "unreadable catalog", "daily_top_ips --root {garbage}", BAD_CATALOG),
    Case("report", "metastore down", "daily_top_ips -c {down}", METASTORE_DOWN),
    Case(
        "report", "no report table yet", "daily_top_ips --root {bare}", _no_table("daily_top_ips")
    ),
    Case(
        "report",
        "bad date",
        "daily_top_ips --period 2015-13-45 --root {bare}",
        BAD_DAY.format(option="period", command="report"),
    ),
    Case(
        "report",
        "unknown report",
        "daily_top_nobody --root {bare}",
        r"unknown report 'daily_top_nobody': choose one of daily_top_ips, .*",
    ),
    Case(
        "report",
        "unknown format",
        "daily_top_ips -f xml",
        r"Invalid value for '--format' / '-f': .*'xml' is not one of 'table', 'json', 'csv'.*",
    ),
    Case(
        "doctor",
        "unknown format",
        "-f xml",
        r"Invalid value for '--format' / '-f': .*'xml' is not one of 'table', 'json'.*",
    ),
    Case("runs", "nothing ran yet", "--root {empty}", NO_LAKEHOUSE),
    Case("runs", "unreadable catalog", "--root {garbage}", BAD_CATALOG),
    Case("runs", "no etl_runs yet", "--root {bare}", _no_table("etl_runs")),
    Case("runs", "metastore down", "-c {down}", METASTORE_DOWN),
    Case("report-page", "nothing ran yet", "--root {empty}", NO_LAKEHOUSE),
    Case("report-page", "unreadable catalog", "--root {garbage}", BAD_CATALOG),
    Case("report-page", "no tables yet", "--root {bare}", _no_table("etl_runs")),
    Case("report-page", "metastore down", "-c {down}", METASTORE_DOWN),
    Case("query", "nothing ran yet", "'SELECT 1' --root {empty}", NO_LAKEHOUSE),
    Case(
        "query", "nothing ran yet, spark", "'SELECT 1' --engine spark --root {empty}", NO_LAKEHOUSE
    ),
    Case("query", "unreadable catalog", "'SELECT 1' --root {garbage}", BAD_CATALOG),
    Case("query", "metastore down", "'SELECT 1' -c {down}", METASTORE_DOWN),
    Case("query", "metastore down, spark", "'SELECT 1' --engine spark -c {down}", METASTORE_DOWN),
    Case(
        "query",
        "bad SQL",
        "'SELEC 1' --root {bare}",
        r'syntax error at or near "SELEC" \(the fast engine runs SELECT/WITH/DESCRIBE; '
        r"use --engine spark for other statements\)",
    ),
    Case(
        "query",
        "unknown table",
        "'SELECT * FROM nosuch' --root {bare}",
        r"Catalog Error: Table with name nosuch does not exist!.*",
    ),
    Case(
        "query",
        "unknown engine",
        "'SELECT 1' --engine nope",
        r"Invalid value for '--engine' / '-e': .*'nope' is not one of 'spark', 'fast'.*",
    ),
    Case("demo", "bad date", "--start 2015-13-45", BAD_DAY.format(option="start", command="demo")),
    Case("stack up", "missing stack config", "-s {missing}", NO_CONFIG),
    Case("stack up", "stack config not TOML", "-s {broken}", NOT_TOML),
    Case("stack status", "missing stack config", "-s {missing}", NO_CONFIG),
    Case("stack down", "missing stack config", "-s {missing}", NO_CONFIG),
    Case(
        "stack logs",
        "unknown service",
        "nosuch",
        r"no service 'nosuch' in the local stack \(one of: postgres, .*\)",
    ),
    Case(
        "stack logs",
        "no log yet",
        "metastore -s {stack}",
        r"no log yet for metastore \(.*/stack/logs/.*\): run `lakehouse stack up`",
    ),
]


def _commands(group: object, prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix}{name}"
        found |= _commands(command, f"{path} ") if hasattr(command, "commands") else {path: command}
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _options(command: object) -> set[str]:
    return {opt for param in getattr(command, "params", []) for opt in param.opts}


# And for every command that reads settings: the settings file and runtime errors.
SETTINGS_ROWS = [
    case
    for path, command in sorted(COMMANDS.items())
    if {"--config", "--runtime"} <= _options(command)
    for case in (
        Case(path, "missing --config", "{arg} -c {missing}", NO_CONFIG),
        Case(path, "--config not TOML", "{arg} -c {broken}", NOT_TOML),
        Case(path, "--config a directory", "{arg} -c {dir}", CONFIG_IS_DIR),
        Case(path, "unknown runtime", "{arg} -r nope", BAD_RUNTIME),
    )
]
# A required argument comes first; its value does not matter (settings are read before).
ARGUMENT = {"ingest": "{work}", "report": "daily_top_ips", "query": "'SELECT 1'"}


def test_every_command_has_rows() -> None:
    assert set(COMMANDS) == {case.command for case in ROWS}
    assert len(COMMANDS) >= 15  # the enumeration itself found the commands


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base = tmp_path_factory.mktemp("matrix")
    garbage = base / "garbage"
    garbage.mkdir()
    (garbage / "catalog.db").write_bytes(b"this is not a SQLite database\n" * 100)
    # A catalog whose namespace has no tables, made with PyIceberg directly.
    bare = runtimes.embedded(base / "bare")
    (base / "bare").mkdir()
    load_catalog(bare.catalog.name, **pyiceberg_properties(bare)).create_namespace("logs")
    (base / "broken.toml").write_text("[spark\nmaster = 'local[*]'\n")
    (base / "a-file").write_text("not a directory\n")
    (base / "empty-dir").mkdir()
    (base / "stack.toml").write_text(f'data_dir = "{base / "stack"}"\n')
    # The local runtime with its services down: a port bound but not listening refuses.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    down = LocalStackSettings(metastore_port=port, s3_port=port, spark_master_port=port)
    (base / "stack-down.toml").write_text(render_settings_toml(runtimes.local_stack(down)))
    yield {
        "empty": str(base / "empty"),
        "garbage": str(garbage),
        "bare": str(base / "bare"),
        "missing": str(base / "missing.toml"),
        "broken": str(base / "broken.toml"),
        "dir": str(base / "empty-dir"),
        "file": str(base / "a-file"),
        "stack": str(base / "stack.toml"),
        "down": str(base / "stack-down.toml"),
        "work": str(base),
    }
    closed.close()


def _argv(case: Case, places: dict[str, str]) -> list[str]:
    args = case.args.replace("{arg}", ARGUMENT.get(case.command, "")).format(**places)
    return [*case.command.split(), *shlex.split(args)]


@pytest.mark.parametrize("case", ROWS + SETTINGS_ROWS, ids=lambda c: c.id)
def test_fails_with_one_line_and_exit_code_2(
    case: Case,
    places: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("LAKEHOUSE_CONFIG", raising=False)
    monkeypatch.delenv("LAKEHOUSE_STACK_CONFIG", raising=False)
    monkeypatch.chdir(places["work"])  # relative defaults (var/lakehouse, var/stack) land here
    monkeypatch.setattr(sys, "argv", ["lakehouse", *_argv(case, places)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.fullmatch(f"error: {case.line}", lines[0]), lines[0]


# Through a real process: the marquee rows of the issue, and --verbose.
PROCESS_ROWS = [
    ("report daily_top_ips --root {empty}", NO_LAKEHOUSE),
    ("report daily_top_ips --period 2015-13-45", BAD_DAY.format(option="period", command="report")),
]


def _lakehouse(*args: str, cwd: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_CONFIG")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "cli.app", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
        env=env,
    )


@pytest.mark.parametrize(("args", "line"), PROCESS_ROWS, ids=[a for a, _ in PROCESS_ROWS])
def test_a_real_process_prints_the_same_line(args: str, line: str, places: dict[str, str]) -> None:
    done = _lakehouse(*shlex.split(args.format(**places)), cwd=places["work"])
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert re.fullmatch(f"error: {line}", done.stderr.strip())


def test_verbose_adds_the_stack_trace_before_the_line(places: dict[str, str]) -> None:
    done = _lakehouse("--verbose", "runs", "--root", places["empty"], cwd=places["work"])
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert any("readers/reading.py" in line for line in lines)
    assert re.fullmatch(f"error: {NO_LAKEHOUSE}", lines[-1])
