"""Assertions shared by the end-to-end and reliability tests: tables vs. raw input."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from readers.reading import read_table
from spark import tables
from tests.pipeline import reference


def input_dir(settings: Any) -> Path:
    return Path(settings.storage.input_uri.removeprefix("file://"))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def table_rows(settings: Any, name: str) -> list[dict[str, Any]]:
    return read_table(settings, name).to_pylist()


def _ips(rows: list[dict[str, Any]], period: str) -> set[tuple]:
    return {
        (r[period], r["segment"], r["rank"], r["client_ip"], r["requests"], r["bytes"])
        for r in rows
    }


def _devices(rows: list[dict[str, Any]], period: str) -> set[tuple]:
    return {
        (r[period], r["rank"], r["device_type"], r["device"], r["requests"], round(r["share"], 9))
        for r in rows
    }


def rows_read_as(settings: Any, name: str, source_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """A table's rows with `source_file` renamed (job's URI -> the local copy's `file:` URI)."""
    rows = table_rows(settings, name)
    for row in rows:
        row["source_file"] = source_names.get(row["source_file"], row["source_file"])
    return rows


def assert_tables_match_input(
    settings: Any,
    top_n: int,
    unreadable: Collection[str] = (),
    source_names: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Every table equals the independent computation over all files now in the input.

    `unreadable`: URIs of files the job must have skipped (e.g. a corrupt gzip); they are
    left out of the computation and must have no row anywhere, ledger included.
    `source_names`: for input the job read elsewhere (S3), the job's URI of each file -> the
    `file:` URI of the local copy under `settings.storage.input_uri` that the reference reads.
    """
    hits, rejected_by_file, lines_by_file = [], {}, {}
    # Later than the runs' start: only a line dated within seconds of the window's far end
    # could be judged differently, and no test writes one.
    now = datetime.now(UTC)
    for path in _files(input_dir(settings)):
        uri = f"file:{path}"
        if uri in unreadable:
            continue
        file_hits, rejected = reference.parse(path, settings.etl, now)
        hits += file_hits
        rejected_by_file[uri] = rejected
        lines_by_file[uri] = len(reference.read_lines(path))

    names = source_names or {}
    logs = rows_read_as(settings, tables.ACCESS_LOGS, names)
    rejected_rows = rows_read_as(settings, tables.REJECTED_LINES, names)
    for skipped in unreadable:
        assert not any(r["source_file"] == skipped for r in logs + rejected_rows), skipped
    assert len(logs) == len(hits)
    assert {(r["source_file"], r["source_line"]) for r in logs} == {
        (h.source_file, h.source_line) for h in hits
    }
    ledger = {r["source_file"]: r for r in rows_read_as(settings, tables.INGESTED_FILES, names)}
    assert set(ledger) == set(lines_by_file)
    for uri, lines in lines_by_file.items():
        # Reconciliation: nothing is dropped silently, per file.
        accepted = sum(1 for r in logs if r["source_file"] == uri)
        rejected = sum(1 for r in rejected_rows if r["source_file"] == uri)
        assert accepted + rejected == lines, uri
        assert rejected == rejected_by_file[uri], uri
        assert (ledger[uri]["lines_read"], ledger[uri]["accepted"]) == (lines, accepted)

    assert _ips(table_rows(settings, tables.DAILY_TOP_IPS), "day") == reference.top_ips(
        hits, reference.by_day, top_n
    )
    assert _ips(table_rows(settings, tables.WEEKLY_TOP_IPS), "week_start") == reference.top_ips(
        hits, reference.by_week, top_n
    )
    assert _devices(table_rows(settings, tables.DAILY_TOP_DEVICES), "day") == reference.top_devices(
        hits, reference.by_day, top_n
    )
    assert _devices(
        table_rows(settings, tables.WEEKLY_TOP_DEVICES), "week_start"
    ) == reference.top_devices(hits, reference.by_week, top_n)
    assert_reports_match(settings, hits, top_n)
    return {"accepted": len(hits), "rejected": sum(rejected_by_file.values())}


def _rows(settings: Any, name: str, columns: tuple[str, ...]) -> set[tuple]:
    return {
        tuple(round(r[c], 9) if isinstance(r[c], float) else r[c] for c in columns)
        for r in table_rows(settings, name)
    }


_STATUS = ("status_2xx", "status_3xx", "status_4xx", "status_499", "status_5xx")
_SEGMENT_RANK = ("segment", "rank")


def assert_reports_match(settings: Any, hits: list[reference.Hit], top_n: int) -> None:
    """The path, 404, referrer, traffic and software reports equal the reference's."""
    site_hosts = settings.reports.site_hosts
    for period, period_of, prefix in (
        ("day", reference.by_day, "daily"),
        ("week_start", reference.by_week, "weekly"),
    ):
        got = _rows(
            settings, f"{prefix}_top_paths",
            (period, *_SEGMENT_RANK, "path", "requests", "bytes", *_STATUS),
        )  # fmt: skip
        assert got == reference.top_paths(hits, period_of, top_n), prefix
        got = _rows(
            settings, f"{prefix}_top_not_found", (period, *_SEGMENT_RANK, "path", "requests")
        )
        assert got == reference.top_not_found(hits, period_of, top_n), prefix
        got = _rows(
            settings, f"{prefix}_top_referrers",
            (period, *_SEGMENT_RANK, "referrer_domain", "requests", "bytes"),
        )  # fmt: skip
        assert got == reference.top_referrers(hits, period_of, top_n, site_hosts), prefix
        got = _rows(
            settings, f"{prefix}_traffic",
            (period, "requests", "bytes", *_STATUS, "visitors", "human_visitors"),
        )  # fmt: skip
        assert got == reference.traffic(hits, period_of), prefix
        got = _rows(
            settings, f"{prefix}_top_software",
            (period, "kind", "rank", "family", "requests", "share"),
        )  # fmt: skip
        assert got == reference.top_software(hits, period_of, top_n), prefix
