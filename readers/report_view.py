"""Reports for people: pick a period, render as a rich table, JSON rows or CSV."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any, TextIO

from rich.table import Table

from core.errors import ConfigError
from core.names import REPORT_TABLES
from core.settings import Settings
from readers.reading import read_table

REPORTS = tuple(str(t) for t in REPORT_TABLES)


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
    return sorted(rows, key=lambda r: (r[column], r.get("segment", ""), r["rank"]))


def as_rich_table(name: str, rows: list[dict[str, Any]]) -> Table:
    """One row per rank; a column whose value every row shares (the period, the segment) goes
    into the title, which leaves an IPv6 address room to show whole in 80 columns."""
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
    table = Table(title=title, title_justify="left")
    if not rows:
        return table
    shown = [key for key in rows[0] if key not in shared]
    for key in shown:
        numeric = isinstance(rows[0][key], int | float)
        # Folded, never cut with an ellipsis: a truncated IP address is a wrong one.
        table.add_column(key, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row[key]) for key in shown))
    return table


def _cell(value: Any) -> str:
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
