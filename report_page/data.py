"""The numbers on the report page, read with PyIceberg (no JVM) through the ETL's catalog.

`access_logs` is read once, streaming, as four columns of the last `WINDOW_DAYS` days
(a hidden-partition filter on event_time, so older days are never opened), and DuckDB folds
it into a small (hour, status, device_type) cube from which every traffic chart is derived.
The report tables are small and read whole; only the latest periods are kept for the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
from pyiceberg.expressions import GreaterThanOrEqual

from core.names import CLIENT_IP_POLICY_PROPERTY, STATUS_CLASSES, STATUS_COLUMNS, Table
from core.settings import Settings
from readers import history
from readers.query import DUCKDB_CONFIG
from readers.reading import load_table, read_table, table_names
from report_page.changes import Comparison, Mover, comparisons, movers

WINDOW_DAYS = 31  # requests per day, status mix, device share
HOURLY_DAYS = 7  # requests per hour: 168 bars still read as a shape
DAILY_PERIODS = 14  # days offered by the daily top-N selectors
WEEKLY_PERIODS = 8
RUNS_SHOWN = 20
SEGMENTS = ("all", "human", "bot")


@dataclass(frozen=True)
class Ranked:
    """One bar of a top-N chart."""

    rank: int
    label: str
    requests: int
    detail: str  # bytes for IPs, share for devices
    kind: str = ""  # what picks the bar's colour: the segment, or the device type
    # A stacked bar's parts, (name, requests) in drawing order: top paths' status mix.
    parts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Latency:
    """One row of daily_latency / weekly_latency: the site (path None) or one top path."""

    period: date
    rank: int
    path: str | None
    requests: int
    p50_ms: int
    p95_ms: int
    p99_ms: int
    max_ms: int
    slow_requests: int
    upstream_p95_ms: int | None
    upstream_share: float | None


@dataclass
class PageData:
    generated_at: datetime
    runtime: str
    warehouse: str
    latest_day: date | None = None
    window_start: date | None = None
    total_requests: int = 0
    total_bytes: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_hour: list[tuple[datetime, int]] = field(default_factory=list)
    status_mix: list[tuple[int, int]] = field(default_factory=list)
    device_share: list[tuple[str, int]] = field(default_factory=list)
    rejected_by_reason: list[tuple[str, int]] = field(default_factory=list)
    # (period, segment) -> bars; devices use segment "all"
    daily_top_ips: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_top_ips: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    daily_top_devices: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_top_devices: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    # The newer report tables (docs/report-page.md); empty when the lakehouse lacks them.
    daily_changes: list[Comparison] = field(default_factory=list)
    weekly_changes: list[Comparison] = field(default_factory=list)
    # (latest day, the day before, movers) of daily_top_paths and daily_top_ips, segment all
    path_movers: tuple[date | None, date | None, list[Mover]] = (None, None, [])
    ip_movers: tuple[date | None, date | None, list[Mover]] = (None, None, [])
    daily_top_paths: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_top_paths: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    daily_not_found: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_not_found: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    daily_referrers: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_referrers: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    # (period, kind: browser | os) -> bars; human requests only
    daily_software: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    weekly_software: dict[tuple[date, str], list[Ranked]] = field(default_factory=dict)
    # Latency: the site per period (rank 0), oldest first, and the top paths per period.
    daily_latency: list[Latency] = field(default_factory=list)
    weekly_latency: list[Latency] = field(default_factory=list)
    daily_path_latency: dict[tuple[date, str], list[Latency]] = field(default_factory=dict)
    # The ETL's threshold for slow requests (rows written under an older value keep it
    # until `lakehouse rebuild-reports`).
    slow_request_seconds: float = 1.0
    runs: list[dict[str, Any]] = field(default_factory=list)
    # The etl.client_ip policy the rows were written under (docs/privacy.md).
    client_ip_policy: str = "keep"


def gather(settings: Settings, now: datetime | None = None) -> PageData:
    data = PageData(
        generated_at=(now or datetime.now(UTC)).replace(microsecond=0),
        runtime=settings.runtime.value,
        warehouse=settings.storage.warehouse_uri,
    )
    data.runs = history.recent_runs(settings, RUNS_SHOWN)
    daily_devices = read_table(settings, Table.DAILY_TOP_DEVICES).to_pylist()
    access_logs = load_table(settings, Table.ACCESS_LOGS)
    # Tables written before policies were recorded hold addresses as logged.
    data.client_ip_policy = access_logs.properties.get(CLIENT_IP_POLICY_PROPERTY, "keep")
    data.rejected_by_reason = _rejected_by_reason(settings)
    if not daily_devices:
        return data  # nothing ingested yet: the page says so
    # The report tables know the latest day without touching access_logs.
    data.latest_day = max(r["day"] for r in daily_devices)
    data.window_start = data.latest_day - timedelta(days=WINDOW_DAYS - 1)
    _traffic(settings, data)
    data.daily_top_ips = _top_ips(read_table(settings, Table.DAILY_TOP_IPS).to_pylist(), "day")
    data.weekly_top_ips = _top_ips(
        read_table(settings, Table.WEEKLY_TOP_IPS).to_pylist(), "week_start"
    )
    data.daily_top_devices = _top_devices(daily_devices, "day")
    data.weekly_top_devices = _top_devices(
        read_table(settings, Table.WEEKLY_TOP_DEVICES).to_pylist(), "week_start"
    )
    gather_reports(settings, data)
    return data


def gather_reports(settings: Settings, data: PageData) -> None:
    """The report tables of issues #14 and #16, each read whole (they are small).

    A lakehouse written before a table existed simply lacks it: its section says so, the
    rest of the page is drawn (`lakehouse rebuild-reports` computes it from access_logs).
    """
    present = table_names(settings)
    data.slow_request_seconds = settings.etl.slow_request_seconds

    def rows(table: Table) -> list[dict[str, Any]]:
        return read_table(settings, table).to_pylist() if table in present else []

    data.daily_changes = comparisons(rows(Table.DAILY_TRAFFIC), "day", DAILY_PERIODS)
    data.weekly_changes = comparisons(rows(Table.WEEKLY_TRAFFIC), "week_start", WEEKLY_PERIODS)
    daily_paths = rows(Table.DAILY_TOP_PATHS)
    data.path_movers = movers(daily_paths, "path")
    data.ip_movers = movers(rows(Table.DAILY_TOP_IPS), "client_ip")
    data.daily_top_paths = _top_paths(daily_paths, "day")
    data.weekly_top_paths = _top_paths(rows(Table.WEEKLY_TOP_PATHS), "week_start")
    data.daily_not_found = _ranked(rows(Table.DAILY_TOP_NOT_FOUND), "day", "path", _no_detail)
    data.weekly_not_found = _ranked(
        rows(Table.WEEKLY_TOP_NOT_FOUND), "week_start", "path", _no_detail
    )
    data.daily_referrers = _ranked(
        rows(Table.DAILY_TOP_REFERRERS), "day", "referrer_domain", _bytes_detail
    )
    data.weekly_referrers = _ranked(
        rows(Table.WEEKLY_TOP_REFERRERS), "week_start", "referrer_domain", _bytes_detail
    )
    data.daily_software = _ranked(
        rows(Table.DAILY_TOP_SOFTWARE), "day", "family", _share_detail, group="kind"
    )
    data.weekly_software = _ranked(
        rows(Table.WEEKLY_TOP_SOFTWARE), "week_start", "family", _share_detail, group="kind"
    )
    daily = _latency(rows(Table.DAILY_LATENCY), "day", DAILY_PERIODS)
    data.daily_latency = [r for r in daily if r.rank == 0]
    for r in daily:
        if r.rank > 0:
            data.daily_path_latency.setdefault((r.period, "all"), []).append(r)
    weekly = _latency(rows(Table.WEEKLY_LATENCY), "week_start", WEEKLY_PERIODS)
    data.weekly_latency = [r for r in weekly if r.rank == 0]


def _traffic(settings: Settings, data: PageData) -> None:
    assert data.window_start is not None and data.latest_day is not None
    since = datetime.combine(data.window_start, time.min, UTC)
    table = load_table(settings, Table.ACCESS_LOGS)
    scan = table.scan(
        row_filter=GreaterThanOrEqual("event_time", since.isoformat()),
        selected_fields=("event_time", "status", "device_type", "body_bytes"),
    )
    logs = scan.to_arrow_batch_reader()  # streamed into DuckDB: memory stays flat
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        con.execute("SET TimeZone = 'UTC'")  # hours and days are UTC, as in the ETL
        con.register("logs", logs)
        cube = con.execute(
            "SELECT date_trunc('hour', event_time) AS hour, status, device_type, "
            "count(*) AS requests, sum(body_bytes) AS bytes FROM logs GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    hours: Counter[datetime] = Counter()
    statuses: Counter[int] = Counter()
    devices: Counter[str] = Counter()
    for hour, status, device_type, requests, size in cube:
        hours[hour] += requests
        statuses[status] += requests
        devices[device_type] += requests
        data.total_requests += requests
        data.total_bytes += size
    days: Counter[date] = Counter()
    for hour, requests in hours.items():
        days[hour.date()] += requests
    data.per_day = _dense_days(days, data.window_start, data.latest_day)
    if data.per_day:  # the window starts at the first day with data, if that is later
        data.window_start = data.per_day[0][0]
    first_day = max(data.window_start, data.latest_day - timedelta(days=HOURLY_DAYS - 1))
    first_hour = datetime.combine(first_day, time.min, UTC)
    span = 24 * ((data.latest_day - first_day).days + 1)
    data.per_hour = [
        (first_hour + timedelta(hours=h), hours.get(first_hour + timedelta(hours=h), 0))
        for h in range(span)
    ]
    data.status_mix = sorted(statuses.items())
    data.device_share = devices.most_common()


def _dense_days(days: Counter[date], window_start: date, latest: date) -> list[tuple[date, int]]:
    """One entry per day from the first day with data to `latest`, zero-filled gaps."""
    if not days:
        return []
    first = max(window_start, min(days))
    span = (latest - first).days + 1
    return [
        (first + timedelta(days=i), days.get(first + timedelta(days=i), 0)) for i in range(span)
    ]


def _rejected_by_reason(settings: Settings) -> list[tuple[str, int]]:
    table = load_table(settings, Table.REJECTED_LINES)
    reasons = table.scan(selected_fields=("reason",)).to_arrow()
    counts = Counter(reasons.column("reason").to_pylist())
    return counts.most_common()


def _latest(periods: set[date], keep: int) -> set[date]:
    return set(sorted(periods)[-keep:])


def _top_ips(rows: list[dict[str, Any]], period: str) -> dict[tuple[date, str], list[Ranked]]:
    keep = _latest({r[period] for r in rows}, DAILY_PERIODS if period == "day" else WEEKLY_PERIODS)
    out: dict[tuple[date, str], list[Ranked]] = {}
    for r in sorted(rows, key=lambda r: r["rank"]):
        if r[period] in keep:
            size = history.human_bytes(r["bytes"])
            bar = Ranked(r["rank"], r["client_ip"], r["requests"], size, r["segment"])
            out.setdefault((r[period], r["segment"]), []).append(bar)
    return out


def _top_devices(rows: list[dict[str, Any]], period: str) -> dict[tuple[date, str], list[Ranked]]:
    keep = _latest({r[period] for r in rows}, DAILY_PERIODS if period == "day" else WEEKLY_PERIODS)
    out: dict[tuple[date, str], list[Ranked]] = {}
    for r in sorted(rows, key=lambda r: r["rank"]):
        if r[period] in keep:
            label = f"{r['device']} ({r['device_type']})"
            bar = Ranked(r["rank"], label, r["requests"], f"{r['share']:.1%}", r["device_type"])
            out.setdefault((r[period], "all"), []).append(bar)
    return out


STATUS_PARTS = tuple(zip(STATUS_CLASSES, STATUS_COLUMNS, strict=True))


def _no_detail(row: dict[str, Any]) -> str:
    return ""


def _bytes_detail(row: dict[str, Any]) -> str:
    return history.human_bytes(row["bytes"])


def _share_detail(row: dict[str, Any]) -> str:
    return f"{row['share']:.1%}"


def _ranked(
    rows: list[dict[str, Any]],
    period: str,
    label: str,
    detail: Callable[[dict[str, Any]], str],
    *,
    group: str = "segment",
) -> dict[tuple[date, str], list[Ranked]]:
    """Bars per (period, segment), or per (period, kind) for software: latest periods only."""
    keep = _latest({r[period] for r in rows}, DAILY_PERIODS if period == "day" else WEEKLY_PERIODS)
    out: dict[tuple[date, str], list[Ranked]] = {}
    for r in sorted(rows, key=lambda r: r["rank"]):
        if r[period] in keep:
            bar = Ranked(r["rank"], r[label], r["requests"], detail(r), r[group])
            out.setdefault((r[period], r[group]), []).append(bar)
    return out


def _top_paths(rows: list[dict[str, Any]], period: str) -> dict[tuple[date, str], list[Ranked]]:
    bars = _ranked(rows, period, "path", _bytes_detail)
    parts = {
        (r[period], r["segment"], r["rank"]): tuple((name, r[col]) for name, col in STATUS_PARTS)
        for r in rows
    }
    return {
        key: [replace(b, parts=parts[(*key, b.rank)]) for b in ranked]
        for key, ranked in bars.items()
    }


def _latency(rows: list[dict[str, Any]], period: str, keep: int) -> list[Latency]:
    periods = _latest({r[period] for r in rows}, keep)
    return [
        Latency(
            period=r[period],
            rank=r["rank"],
            path=r["path"],
            requests=r["requests"],
            p50_ms=r["p50_ms"],
            p95_ms=r["p95_ms"],
            p99_ms=r["p99_ms"],
            max_ms=r["max_ms"],
            slow_requests=r["slow_requests"],
            upstream_p95_ms=r["upstream_p95_ms"],
            upstream_share=r["upstream_share"],
        )
        for r in sorted(rows, key=lambda r: (r[period], r["rank"]))
        if r[period] in periods
    ]
