"""The generator's other named formats: each line is the combined line of the same seed with
the format's fields added where nginx puts them, and those fields look as nginx writes them."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path

import pytest

from core.errors import ConfigError
from generator import TrafficSpec, generate

SPEC = {"start": dt.date(2024, 10, 7), "days": 1, "lines": 3_000, "seed": 11}
SECONDS = r"\d+\.\d{3}"
UPSTREAM = rf"(?:-|{SECONDS})(?:(?:, | : )(?:-|{SECONDS}))*"
# What each format adds to a combined line, by hand (core/log_format.py NAMED).
ADDED = {
    "main": re.compile(r'^(?P<combined>.*") "(?P<xff>-|[0-9., ]+)"$'),
    "timed": re.compile(
        rf'^(?P<combined>.*") "(?P<xff>-|[0-9., ]+)" (?P<rt>{SECONDS}) (?P<ut>-|{UPSTREAM})$'
    ),
    "vhost": re.compile(r"^(?P<host>[a-z.]+|\[[0-9a-f:]+\]) (?P<combined>.*)$"),
}


def _lines(root: Path) -> list[str]:
    files = sorted(p for p in root.rglob("*.gz"))
    return [line for f in files for line in gzip.decompress(f.read_bytes()).decode().splitlines()]


@pytest.fixture(scope="module")
def combined(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("combined")
    generate(TrafficSpec(**SPEC), str(root))
    return _lines(root)


@pytest.mark.parametrize("log_format", ["main", "timed", "vhost"])
def test_each_line_is_the_combined_line_plus_the_formats_fields(
    tmp_path: Path, combined: list[str], log_format: str
) -> None:
    generate(TrafficSpec(**SPEC, log_format=log_format), str(tmp_path))
    lines = _lines(tmp_path)
    assert len(lines) == len(combined) == SPEC["lines"]
    matches = [ADDED[log_format].fullmatch(line) for line in lines]
    assert all(matches), next(line for line, m in zip(lines, matches, strict=True) if not m)
    assert [m["combined"] for m in matches if m] == combined
    groups = [m.groupdict() for m in matches if m]
    if log_format == "vhost":
        assert {g["host"] for g in groups} >= {"www.example.com", "[2001:db8::1]"}
    else:
        proxied = sum(g["xff"] != "-" for g in groups)
        assert 0 < proxied < len(groups) / 2
    if log_format == "timed":
        upstream = [g["ut"] for g in groups]
        assert {"-" in upstream, any(", " in u for u in upstream)} == {True}
        assert any(" : " in u for u in upstream)
        for g in groups:
            totals = [float(t) for t in re.split(r", | : ", g["ut"]) if t != "-"]
            assert sum(totals) <= float(g["rt"]) + 1e-9, g


def test_an_unnamed_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="log_format must be one of combined, main, timed"):
        TrafficSpec(**SPEC, log_format="$remote_addr")
