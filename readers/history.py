"""Run history: the rows `spark.job.run_etl` appends to `etl_runs`, newest first, no JVM."""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
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


def as_rich_table(runs: list[dict[str, Any]]) -> RunsView:
    """The runs for a terminal or a pipe: one row each when that fits, else a few lines each."""
    return RunsView(runs)


class RunsView:
    """Ten columns need about 130 characters; an 80-column terminal or a pipe (rich assumes 80)
    would squeeze them into fragments, so a narrower console gets each run as a short block.
    """

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self._wide()
        # Measured unconstrained: a table always measures within the width it is given.
        natural = console.measure(wide, options=options.update_width(10_000)).maximum
        if natural <= options.max_width:
            yield wide
        else:
            yield self._blocks()

    def _title(self) -> str:
        return f"ETL runs — latest {len(self.runs)}"

    def _caption(self) -> str | None:
        return None if self.runs else "no runs yet: `lakehouse etl` records one per run"

    def _wide(self) -> Table:
        table = Table(title=self._title(), title_justify="left", caption=self._caption())
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
        for run in self.runs:
            table.add_row(
                run["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
                run["run_id"],
                _outcome(run),
                _took(run),
                f"{run['input_files']:,}",
                human_bytes(run["input_bytes"]),
                f"{run['lines_read']:,}",
                f"{run['accepted']:,}",
                f"{run['rejected']:,}",
                run["error"] or "",
            )
        return table

    def _blocks(self) -> Table:
        # The run id starts with its UTC start stamp, so it stands in for the started column.
        table = Table.grid()
        table.add_column(overflow="fold")  # paths in errors have no spaces to wrap at
        table.title, table.title_justify, table.caption = self._title(), "left", self._caption()
        for run in self.runs:
            table.add_row(Text.assemble(run["run_id"], "  ", _outcome(run), "  ", _took(run)))
            details = [
                Text(
                    f"{run['input_files']:,} files, {human_bytes(run['input_bytes'])}: "
                    f"{run['lines_read']:,} lines = {run['accepted']:,} accepted "
                    f"+ {run['rejected']:,} rejected"
                )
            ]
            if run["error"]:
                details.append(Text(f"error: {run['error']}", style="red"))
            for detail in details:
                table.add_row(Padding(detail, (0, 0, 0, 2)))  # wrapped lines stay indented
        return table


def _outcome(run: dict[str, Any]) -> Text:
    return Text(run["outcome"], style=OUTCOME_STYLE.get(run["outcome"], ""))


def _took(run: dict[str, Any]) -> str:
    return f"{run['seconds']:.1f} s" if run["seconds"] is not None else "running?"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")
