"""`lakehouse runs` in an 80-column terminal or a pipe: every run's key fields, no line wider
than the console, no field cut into fragments. Rows are written by hand (no ETL run)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from readers.history import as_rich_table

MISSING = "file:///var/lakehouse/input/a/rather/long/path/that/does/not/exist/on/this/machine"


def _run(
    run_id: str, outcome: str, seconds: float | None, counts: tuple[int, int, int, int, int]
) -> dict[str, Any]:
    files, size, lines, accepted, rejected = counts
    return {
        "started_at": datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
        "run_id": run_id,
        "outcome": outcome,
        "seconds": seconds,
        "input_files": files,
        "input_bytes": size,
        "lines_read": lines,
        "accepted": accepted,
        "rejected": rejected,
        "error": f"InputError: input location {MISSING} does not exist"
        if outcome == "failed"
        else None,
    }


RUNS = [
    _run("20241009T101500Z-0badf00d", "failed", 0.4, (0, 0, 0, 0, 0)),
    _run("20241009T100000Z-1c2d3e4f", "nothing-to-do", 3.2, (0, 0, 0, 0, 0)),
    _run(
        "20241008T235959Z-9f8e7d6c",
        "partial",
        118.5,
        (71, 1_234_567_890, 12_345_678, 12_345_000, 678),
    ),
    _run("20241008T120000Z-a1b2c3d4", "succeeded", 42.0, (72, 15_300_000, 200_000, 199_870, 130)),
]

# What each run must show, as the user reads it (written out, not computed by the view).
KEY_FIELDS = {
    "20241009T101500Z-0badf00d": ["failed", "0.4 s", MISSING],
    "20241009T100000Z-1c2d3e4f": ["nothing-to-do", "3.2 s"],
    "20241008T235959Z-9f8e7d6c": [
        "partial",
        "118.5 s",
        "12,345,678",
        "12,345,000",
        "678",
        "1.2 GB",
    ],
    "20241008T120000Z-a1b2c3d4": ["succeeded", "42.0 s", "200,000", "199,870", "130", "15.3 MB"],
}


def _render(width: int) -> list[str]:
    # As the CLI's console (soft wrap on), at a fixed width; not a terminal, as in a pipe.
    console = Console(width=width, record=True, soft_wrap=True, force_terminal=False)
    console.print(as_rich_table(RUNS))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 60])
def test_narrow_console_shows_every_run_whole_within_the_width(width: int) -> None:
    lines = _render(width)
    assert max(len(line) for line in lines) <= width
    # Unwrapped, so a field folded over two lines still reads whole.
    text = "".join(lines)
    for run_id, fields in KEY_FIELDS.items():
        assert run_id in text
        for value in fields:
            assert value in text, (run_id, value)
    # One block per run, in the given (newest first) order.
    order = [next(i for i, line in enumerate(lines) if run_id in line) for run_id in KEY_FIELDS]
    assert order == sorted(order)


def test_wide_console_shows_one_row_per_run() -> None:
    lines = _render(300)
    assert max(len(line) for line in lines) <= 300
    for run_id, fields in KEY_FIELDS.items():
        (row,) = [line for line in lines if run_id in line]
        for value in fields:
            assert value in row, (run_id, value)


def test_no_runs_yet_says_how_to_make_one() -> None:
    console = Console(width=80, record=True, force_terminal=False)
    console.print(as_rich_table([]))
    assert "no runs yet: `lakehouse etl` records one per run" in console.export_text()
