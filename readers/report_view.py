"""Reports for people: pick a period, render as a rich table, JSON rows or CSV."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any, TextIO

from rich.console import Group, RenderableType
from rich.table import Table

from core.errors import ConfigError
from core.names import REPORT_TABLES, STATUS_CLASSES, STATUS_COLUMNS
from core.settings import Settings
from readers.reading import read_table

REPORTS = tuple(str(t) for t in REPORT_TABLES)
# Short headers, so that the wide tables (status mix, latency) fit 80 columns.
HEADERS = {
    **dict(zip(STATUS_COLUMNS, STATUS_CLASSES, strict=True)),
    "human_visitors": "human visitors",
    "referrer_domain": "referrer",
    "p50_ms": "p50",
    "p95_ms": "p95",
    "p99_ms": "p99",
    "max_ms": "max",
    "slow_requests": "slow",
    "upstream_p95_ms": "upstream p95",
    "upstream_share": "upstream share",
}
# Titles that say what the short headers leave out.
NOTES = {"latency": "times in ms", "traffic": "499 not in 4xx", "top_paths": "499 not in 4xx"}
SITE = "(whole site)"  # the latency row of rank 0
# Columns shown in a second table (see as_rich_table).
SECOND_TABLE = {
    *STATUS_COLUMNS,
    *("p50_ms", "p95_ms", "p99_ms", "upstream_p95_ms", "upstream_share"),
}


def period_column(name: str) -> str:
    return "day" if name.startswith("daily") else "week_start"


def load(
    settings: Settings, name: str, period: date | None, segment: str, all_periods: bool
) -> list[dict[str, Any]]:
    """Rows of report `name` for one period (default: the latest), ordered by rank."""
    if name not in REPORTS:
        raise ConfigError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}")
    rows = read_table(settings, name).to_pylist()
    column = period_column(name)
    if "segment" in (rows[0] if rows else {}):
        rows = [r for r in rows if r["segment"] == segment]
    if not all_periods and rows:
        wanted = period or max(r[column] for r in rows)
        rows = [r for r in rows if r[column] == wanted]
    return sorted(
        rows, key=lambda r: (r[column], r.get("segment", ""), r.get("kind", ""), r.get("rank", 0))
    )


def as_rich_table(name: str, rows: list[dict[str, Any]]) -> RenderableType:
    """One row per rank; a column whose value every row shares (the period, the segment) goes
    into the title, which leaves an IPv6 address room to show whole in 80 columns.

    Reports with more numbers than 80 columns hold (status mix, latency) show as two tables,
    the second repeating only the rank (or period) beside the rest of the numbers.
    """
    column = period_column(name)
    periods = sorted({str(r[column]) for r in rows})
    shared = {
        key: rows[0][key]
        for key in (column, "segment")
        if rows and key in rows[0] and len({r[key] for r in rows}) == 1
    }
    title = f"{name} — {', '.join(periods) if periods else 'no data yet'}"
    if "segment" in shared:
        title += f" ({shared['segment']})"
    notes = [note for word, note in NOTES.items() if word in name]
    if notes:
        title += f", {', '.join(notes)}"
    if not rows:
        return Table(title=title, title_justify="left")
    shown = [key for key in rows[0] if key not in shared]
    second = [key for key in shown if key in SECOND_TABLE]
    if not second:
        return _table(title, shown, rows)
    keys = [key for key in (column, "segment", "rank") if key in shown]
    first = [key for key in shown if key not in second]
    return Group(_table(title, first, rows), _table(None, [*keys, *second], rows))


def _table(title: str | None, shown: list[str], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for key in shown:
        numeric = any(isinstance(row[key], int | float) for row in rows)
        # Numbers never wrap; text folds, never cut with an ellipsis: a truncated IP
        # address or path is a wrong one.
        table.add_column(
            HEADERS.get(key, key),
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric,
        )
    for row in rows:
        table.add_row(*(_cell(row[key], key) for key in shown))
    return table


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return SITE if key == "path" else "–"
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    if not rows:
        return
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
