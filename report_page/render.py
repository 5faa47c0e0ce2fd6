"""Turns `PageData` into one self-contained HTML file (inline CSS, SVG and script)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any

from core.errors import LakehouseError
from core.names import Outcome
from core.settings import Settings
from readers.history import human_bytes
from report_page import svg
from report_page.data import (
    HOURLY_DAYS,
    SEGMENTS,
    WINDOW_DAYS,
    PageData,
    Ranked,
    gather,
)
from report_page.template import CONTENT_SECURITY_POLICY, PAGE, SCRIPT, STYLE

TITLE = "nginx lakehouse — traffic report"
DEVICE_COLORS = {
    "desktop": "#3b6fb6",
    "mobile": "#2f9e44",
    "tablet": "#e8a317",
    "bot": "#d64545",
    "other": "#9aa5b1",
}
THIRD = 420  # viewBox width of charts in a third of a row: text keeps about the same size
SEGMENT_COLORS = {"all": "#3b6fb6", "human": "#2f9e44", "bot": "#d64545"}
STATUS_CLASS_COLORS = {2: "#2f9e44", 3: "#3b6fb6", 4: "#e8a317", 5: "#d64545"}
OUTCOME_COLORS = {
    Outcome.SUCCEEDED: "#2f9e44",
    Outcome.PARTIAL: "#e8a317",
    Outcome.FAILED: "#d64545",
    Outcome.NOTHING_TO_DO: "#9aa5b1",
}
# Every chart on the page, by the id its card carries in data-chart (tests look for these).
CHARTS = (
    "requests-per-day",
    "requests-per-hour",
    "daily-top-ips",
    "weekly-top-ips",
    "daily-top-devices",
    "weekly-top-devices",
    "device-share",
    "status-mix",
    "rejected-by-reason",
    "run-history",
)


def write_report_page(settings: Settings, out: Path) -> Path:
    """Gather the numbers through the settings' catalog and write the page to `out`."""
    page = render_page(gather(settings))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise LakehouseError(
            f"cannot write the report page to {out} ({exc.filename}: {exc.strerror}): "
            "choose another path"
        ) from None
    return out.resolve()


def render_page(data: PageData) -> str:
    sections = [
        _per_day(data),
        _per_hour(data),
        _top("daily-top-ips", "Top IPs per day", data.daily_top_ips, "day", ips=True),
        _top("weekly-top-ips", "Top IPs per ISO week", data.weekly_top_ips, "week", ips=True),
        _top("daily-top-devices", "Top devices per day", data.daily_top_devices, "day"),
        _top("weekly-top-devices", "Top devices per ISO week", data.weekly_top_devices, "week"),
        _device_share(data),
        _status_mix(data),
        _rejected(data),
        _runs(data),
    ]
    return PAGE.substitute(
        csp=CONTENT_SECURITY_POLICY,  # ours, and free of quotes and markup
        style=STYLE,
        script=SCRIPT,
        title=escape(TITLE),
        meta=escape(_window_text(data)),
        kpis=_kpis(data),
        sections="\n".join(sections),
        footer=escape(
            f"generated {data.generated_at:%Y-%m-%d %H:%M:%S} UTC · runtime {data.runtime} · "
            f"warehouse {data.warehouse} · read with PyIceberg + DuckDB · "
            f"client IPs: {data.client_ip_policy}"
        ),
    )


def _card(chart: str, title: str, sub: str, body: str, *, size: str = "", extra: str = "") -> str:
    classes = f"card {size}".strip()  # "" = half a row, "wide" = a row, "third" = a third
    return (
        f'<section class="{classes}" data-chart="{chart}"{extra}>'
        f'<h2>{escape(title)}</h2><p class="sub">{escape(sub)}</p>{body}</section>'
    )


def _window_text(data: PageData) -> str:
    if data.latest_day is None:
        return (
            "No traffic ingested yet: run `lakehouse etl` (or `make demo`), then rebuild this page."
        )
    return (
        f"Traffic charts cover {data.window_start} to {data.latest_day} (UTC days; at most "
        f"the last {WINDOW_DAYS} days up to the latest day with data)."
    )


def _kpis(data: PageData) -> str:
    rejected = sum(n for _, n in data.rejected_by_reason)
    last = data.runs[0] if data.runs else None
    tiles = [
        ("requests", f"{data.total_requests:,}", f"last {WINDOW_DAYS} days"),
        ("data served", human_bytes(data.total_bytes), "response bodies"),
        ("rejected lines", f"{rejected:,}", "all ingested files"),
        ("latest day", str(data.latest_day or "—"), "UTC"),
        (
            "last run",
            last["outcome"] if last else "—",
            f"{last['started_at']:%Y-%m-%d %H:%M} UTC" if last else "no runs yet",
        ),
    ]
    return "".join(
        f'<div class="kpi" data-kpi="{escape(key)}"><span>{escape(key)}</span>'
        f"<b>{escape(value)}</b><span>{escape(note)}</span></div>"
        for key, value, note in tiles
    )


def _count_text(n: int, dense: bool) -> str:
    return svg.compact(n) if dense and n >= 10_000 else f"{n:,}"


def _per_day(data: PageData) -> str:
    dense = len(data.per_day) > 16
    bars = [
        svg.Bar(f"{d:%b %d}", n, _count_text(n, dense), f"{d} — {n:,} requests")
        for d, n in data.per_day
    ]
    chart = svg.columns("Requests per day", bars, width=1200, height=260)
    return _card(
        "requests-per-day", "Requests per day", "UTC days, accepted lines", chart, size="wide"
    )


def _per_hour(data: PageData) -> str:
    bars = [
        svg.Bar(f"{h:%b %d}", n, f"{n:,}", f"{h:%Y-%m-%d %H}:00 UTC — {n:,} requests")
        for h, n in data.per_hour
    ]
    chart = svg.columns(
        "Requests per hour", bars, width=1200, height=220, show_values=False, label_every=24
    )
    sub = f"at most the last {HOURLY_DAYS} days, UTC hours (hover a bar for its count)"
    return _card("requests-per-hour", "Requests per hour", sub, chart, size="wide")


def _top(
    chart: str,
    title: str,
    tops: dict[tuple[date, str], list[Ranked]],
    unit: str,
    *,
    ips: bool = False,
) -> str:
    if not tops:
        return _card(chart, title, "", '<p class="empty">no data yet</p>')
    periods = sorted({p for p, _ in tops}, reverse=True)
    segments = [s for s in SEGMENTS if any((p, s) in tops for p in periods)]
    variants = []
    colors = SEGMENT_COLORS if ips else DEVICE_COLORS
    for period, segment in sorted(tops, reverse=True):
        bars = [
            svg.Bar(
                r.label,
                r.requests,
                f"{r.requests:,} · {r.detail}",
                f"#{r.rank} {r.label}: {r.requests:,} requests, {r.detail}",
                colors.get(r.kind, "#3b6fb6"),
            )
            for r in tops[(period, segment)]
        ]
        hidden = "" if (period, segment) == (periods[0], segments[0]) else " hidden"
        variants.append(
            f'<div class="variant" data-period="{escape(str(period))}" '
            f'data-segment="{escape(segment)}"{hidden}>'
            f"{svg.hbars(f'{title}, {period}, {segment}', bars)}</div>"
        )
    controls = _select("period", unit, [str(p) for p in periods])
    if ips:
        controls += _select("segment", "segment", segments)
    label = "week starting" if unit == "week" else "day"
    sub = (
        f"requests · bytes, ranked within each {unit} and segment (all / human / bot)"
        if ips
        else f"requests · share of the {unit}'s requests"
    )
    body = f'<div class="controls">{controls}</div>{"".join(variants)}'
    return _card(chart, title, f"{sub}; pick the {label}", body, extra=" data-switch")


def _select(name: str, label: str, options: Sequence[str]) -> str:
    items = "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in options)
    return f'<label>{escape(label)} <select name="{name}">{items}</select></label>'


def _device_share(data: PageData) -> str:
    total = sum(n for _, n in data.device_share) or 1
    slices = [
        svg.Bar(
            kind,
            n,
            f"{n:,} · {n / total:.1%}",
            f"{kind}: {n:,} requests",
            DEVICE_COLORS.get(kind, "#9aa5b1"),
        )
        for kind, n in data.device_share
    ]
    chart = svg.donut("Device-type share", slices, size=160, width=THIRD)
    sub = f"requests by device type, last {WINDOW_DAYS} days"
    return _card("device-share", "Device-type share", sub, chart, size="third")


def _status_mix(data: PageData) -> str:
    total = sum(n for _, n in data.status_mix) or 1
    bars = [
        svg.Bar(
            _status_label(code),
            n,
            f"{n:,} · {n / total:.1%}",
            f"{code}: {n:,} requests",
            STATUS_CLASS_COLORS.get(code // 100, "#9aa5b1"),
        )
        for code, n in data.status_mix
    ]
    chart = svg.hbars("Status codes", bars, width=THIRD)
    sub = f"requests by HTTP status, last {WINDOW_DAYS} days"
    return _card("status-mix", "Status codes", sub, chart, size="third")


def _status_label(code: int) -> str:
    if code == 499:
        return "499 Client Closed Request"  # nginx's own code, not in HTTPStatus
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _rejected(data: PageData) -> str:
    bars = [
        svg.Bar(reason, n, f"{n:,}", f"{reason}: {n:,} lines", "#d64545")
        for reason, n in data.rejected_by_reason
    ]
    chart = (
        svg.hbars("Rejected lines by reason", bars, width=THIRD)
        if bars
        else '<p class="empty">no rejected lines</p>'
    )
    sub = "all ingested files (each line is kept in rejected_lines)"
    return _card("rejected-by-reason", "Rejected lines by reason", sub, chart, size="third")


def _runs(data: PageData) -> str:
    runs = list(reversed(data.runs))  # oldest first, left to right
    bars = [
        svg.Bar(
            f"{r['started_at']:%m-%d %H:%M}",
            r["lines_read"],
            "failed" if r["outcome"] == Outcome.FAILED else svg.compact(r["lines_read"]),
            f"{r['run_id']}: {r['outcome']}, {r['lines_read']:,} lines",
            OUTCOME_COLORS.get(r["outcome"], "#9aa5b1"),
        )
        for r in runs
    ]
    chart = svg.columns(
        "Lines read per ETL run",
        bars,
        width=1200,
        height=200,
        label_every=max(1, len(bars) // 12),
        max_slot=100,
    )
    body = chart + _runs_table(data.runs)
    sub = (
        "lines read per run (green succeeded, amber partial: unreadable files skipped, "
        "red failed, grey nothing to do); newest first below"
    )
    return _card("run-history", "ETL runs", sub, body, size="wide")


def _runs_table(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return ""
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "started (UTC)",
            "run",
            "outcome",
            "took",
            "files",
            "input",
            "lines",
            "accepted",
            "rejected",
            "error",
        )
    )
    rows = []
    for r in runs:
        took = f"{r['seconds']:.1f} s" if r["seconds"] is not None else "—"
        cells = [
            f'<td class="t">{r["started_at"]:%Y-%m-%d %H:%M:%S}</td>',
            f'<td class="t">{escape(r["run_id"])}</td>',
            f'<td><span class="pill {escape(r["outcome"])}">{escape(r["outcome"])}</span></td>',
            f'<td class="n">{took}</td>',
            f'<td class="n">{r["input_files"]:,}</td>',
            f'<td class="n">{human_bytes(r["input_bytes"])}</td>',
            f'<td class="n">{r["lines_read"]:,}</td>',
            f'<td class="n">{r["accepted"]:,}</td>',
            f'<td class="n">{r["rejected"]:,}</td>',
            f"<td>{escape(r['error'] or '')}</td>",
        ]
        rows.append(f'<tr data-outcome="{escape(r["outcome"])}">{"".join(cells)}</tr>')
    return (
        f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
