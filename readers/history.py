"""Run history: the rows `spark.job.run_etl` appends to `etl_runs`, newest first, no JVM."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from core import names
from core.names import Outcome
from core.settings import Settings
from readers.reading import read_table

# "partial": unreadable files were skipped (and are retried by the next run).
OUTCOME_STYLE = {
    Outcome.SUCCEEDED: "green",
    Outcome.PARTIAL: "yellow",
    Outcome.FAILED: "bold red",
    Outcome.NOTHING_TO_DO: "dim",
}


def recent_runs(settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The latest `limit` runs; maps as dicts, plus `seconds` (None while unfinished)."""
    runs = read_table(settings, names.Table.ETL_RUNS).to_pylist()
    for run in runs:
        # PyIceberg returns Iceberg maps as lists of (key, value) pairs.
        run["rows_written"] = dict(run["rows_written"] or [])
        run["snapshot_ids"] = dict(run["snapshot_ids"] or [])
        finished = run["finished_at"]
        run["seconds"] = (finished - run["started_at"]).total_seconds() if finished else None
    # started_at has whole seconds: run_id (which starts with the same stamp) breaks ties.
    runs.sort(key=lambda r: (r["started_at"], r["run_id"]), reverse=True)
    return runs[:limit]


def as_rich_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title=f"ETL runs — latest {len(runs)}", title_justify="left")
    for name, justify in (
        ("started (UTC)", "left"),
        ("run", "left"),
        ("outcome", "left"),
        ("took", "right"),
        ("files", "right"),
        ("input", "right"),
        ("lines", "right"),
        ("accepted", "right"),
        ("rejected", "right"),
        ("error", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        table.add_row(
            run["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            run["run_id"],
            Text(run["outcome"], style=OUTCOME_STYLE.get(run["outcome"], "")),
            f"{run['seconds']:.1f} s" if run["seconds"] is not None else "running?",
            f"{run['input_files']:,}",
            human_bytes(run["input_bytes"]),
            f"{run['lines_read']:,}",
            f"{run['accepted']:,}",
            f"{run['rejected']:,}",
            run["error"] or "",
        )
    if not runs:
        table.caption = "no runs yet: `lakehouse etl` records one per run"
    return table


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
