"""Turns `PageData` into one self-contained HTML file (inline CSS, SVG and script)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, timedelta
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any

from core.errors import LakehouseError
from core.names import Outcome
from core.settings import Settings
from readers.history import human_bytes
from report_page import svg
from report_page.changes import Comparison, Mover, Totals, change_text
from report_page.data import (
    HOURLY_DAYS,
    SEGMENTS,
    WINDOW_DAYS,
    Latency,
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
# Sections of the newer report tables (issues #14, #16), by the id in data-section. A
# lakehouse that lacks a table shows its section with "no data yet".
SECTIONS = (
    "daily-changes",
    "weekly-changes",
    "path-movers",
    "ip-movers",
    "daily-top-paths",
    "weekly-top-paths",
    "daily-not-found",
    "weekly-not-found",
    "daily-top-referrers",
    "weekly-top-referrers",
    "daily-software",
    "weekly-software",
    "latency",
)
# Drawn only when the lakehouse has latency rows (a log format with $request_time); without
# them the "latency" section is a one-line note.
LATENCY_SECTIONS = ("latency-per-path", "weekly-latency")
STATUS_PART_COLORS = {
    "2xx": "#2f9e44",
    "3xx": "#3b6fb6",
    "4xx": "#e8a317",
    "499": "#9aa5b1",
    "5xx": "#d64545",
}
# Right-aligned columns of the sections' tables.
CHANGE_NUMBERS = range(1, 5)
MOVER_NUMBERS = range(1, 6)
LATENCY_NUMBERS = range(9)  # the period too: a date never wraps
PERCENTILE_COLORS = (("p50", "#3b6fb6"), ("p95", "#e8a317"), ("p99", "#d64545"))


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
        _changes("daily-changes", "What changed: day over day", data.daily_changes, "day"),
        _changes(
            "weekly-changes",
            "What changed: week over week",
            data.weekly_changes,
            "week",
            data.daily_changes[0].current.period if data.daily_changes else None,
        ),
        _movers("path-movers", "Top paths: movers", data.path_movers, "path"),
        _movers("ip-movers", "Top IPs: movers", data.ip_movers, "IP"),
        _top("daily-top-ips", "Top IPs per day", data.daily_top_ips, "day", ips=True),
        _top("weekly-top-ips", "Top IPs per ISO week", data.weekly_top_ips, "week", ips=True),
        _top("daily-top-devices", "Top devices per day", data.daily_top_devices, "day"),
        _top("weekly-top-devices", "Top devices per ISO week", data.weekly_top_devices, "week"),
        _top_paths("daily-top-paths", "Top paths per day", data.daily_top_paths, "day"),
        _top_paths("weekly-top-paths", "Top paths per ISO week", data.weekly_top_paths, "week"),
        _report(
            "daily-not-found",
            "Top 404 paths per day",
            "404 responses per path (query string removed)",
            data.daily_not_found,
            "day",
        ),
        _report(
            "weekly-not-found",
            "Top 404 paths per ISO week",
            "404 responses per path (query string removed)",
            data.weekly_not_found,
            "week",
        ),
        _report(
            "daily-top-referrers",
            "Top referrer domains per day",
            "requests · bytes per Referer host (empty referrers and self-referrals left out)",
            data.daily_referrers,
            "day",
        ),
        _report(
            "weekly-top-referrers",
            "Top referrer domains per ISO week",
            "requests · bytes per Referer host (empty referrers and self-referrals left out)",
            data.weekly_referrers,
            "week",
        ),
        _software("daily-software", "Browsers and OSes per day", data.daily_software, "day"),
        _software(
            "weekly-software", "Browsers and OSes per ISO week", data.weekly_software, "week"
        ),
        *_latency(data),
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


def _card(
    chart: str,
    title: str,
    sub: str,
    body: str,
    *,
    size: str = "",
    extra: str = "",
    attr: str = "data-chart",
) -> str:
    classes = f"card {size}".strip()  # "" = half a row, "wide" = a row, "third" = a third
    return (
        f'<section class="{classes}" {attr}="{chart}"{extra}>'
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
    colors = SEGMENT_COLORS if ips else DEVICE_COLORS
    variants = {
        key: svg.hbars(f"{title}, {key[0]}, {key[1]}", [_bar(r, colors) for r in ranked])
        for key, ranked in tops.items()
    }
    sub = (
        f"requests · bytes, ranked within each {unit} and segment (all / human / bot)"
        if ips
        else f"requests · share of the {unit}'s requests"
    )
    return _switch(chart, title, sub, variants, unit, "segment" if ips else None)


def _bar(r: Ranked, colors: dict[str, str]) -> svg.Bar:
    text = f"{r.requests:,} · {r.detail}" if r.detail else f"{r.requests:,}"
    tooltip = f"#{r.rank} {r.label}: {r.requests:,} requests" + (
        f", {r.detail}" if r.detail else ""
    )
    return svg.Bar(r.label, r.requests, text, tooltip, colors.get(r.kind, "#3b6fb6"))


def _switch(
    chart: str,
    title: str,
    sub: str,
    variants: dict[tuple[date, str], str],
    unit: str,
    group: str | None,
    *,
    groups: Sequence[str] = SEGMENTS,
    attr: str = "data-chart",
    size: str = "",
) -> str:
    """A card of pre-rendered variants, one per (period, group), with pickers for both.

    The latest period and the first group are shown; the page's script shows the variant
    matching the pickers (docs/report-page.md). `group` names the second picker (None: the
    variants differ by period only).
    """
    if not variants:
        return _card(chart, title, sub, '<p class="empty">no data yet</p>', attr=attr, size=size)
    periods = sorted({p for p, _ in variants}, reverse=True)
    shown_groups = [g for g in groups if any((p, g) in variants for p in periods)]
    shown_groups += sorted({g for _, g in variants} - set(shown_groups))
    parts = []
    for period, name in sorted(variants, reverse=True):
        hidden = "" if (period, name) == (periods[0], shown_groups[0]) else " hidden"
        parts.append(
            f'<div class="variant" data-period="{escape(str(period))}" '
            f'data-segment="{escape(name)}"{hidden}>{variants[(period, name)]}</div>'
        )
    controls = _select("period", unit, [str(p) for p in periods])
    if group:
        controls += _select("segment", group, shown_groups)
    label = "week starting" if unit == "week" else "day"
    body = f'<div class="controls">{controls}</div>{"".join(parts)}'
    return _card(
        chart, title, f"{sub}; pick the {label}", body, extra=" data-switch", attr=attr, size=size
    )


def _changes(
    chart: str, title: str, changes: list[Comparison], unit: str, latest_day: date | None = None
) -> str:
    """Per period: requests, visitors, error rate and bytes against the period before.

    `latest_day` (weeks only): the last day with data, so a week still under way says how
    many of its days it holds; its totals are not yet comparable with a whole week's.
    """
    variants = {(c.current.period, "all"): _change_table(c, unit, latest_day) for c in changes}
    sub = (
        f"each {unit} against the {unit} before; visitors = distinct client IPs; "
        "error rate = (4xx + 499 + 5xx) / requests; "
        "no % when the previous value is 0"
    )
    if latest_day:
        sub += "; the latest week may be partial (its days so far are in the heading)"
    return _switch(chart, title, sub, variants, unit, None, attr="data-section")


def _change_table(c: Comparison, unit: str, latest_day: date | None) -> str:
    now, before = c.current, c.previous

    def previous(value: Callable[[Totals], float]) -> float | None:
        return None if before is None else value(before)

    body = [
        _change_row("requests", now.requests, previous(lambda t: t.requests), _count),
        _change_row("visitors", now.visitors, previous(lambda t: t.visitors), _count),
        _change_row(
            "human visitors", now.human_visitors, previous(lambda t: t.human_visitors), _count
        ),
        _change_row("error rate", now.error_rate, previous(lambda t: t.error_rate), _rate),
        _change_row("bytes", now.bytes, previous(lambda t: t.bytes), _size),
    ]
    previous_head = f"previous ({before.period})" if before else "previous"
    current_head = f"{unit} {now.period}"
    if latest_day and latest_day < now.period + timedelta(days=6):
        current_head += f" ({(latest_day - now.period).days + 1} of 7 days)"
    head = ["metric", current_head, previous_head, "change", "%"]
    return _table(head, body, numeric=CHANGE_NUMBERS)


def _change_row(
    metric: str, value: float, previous: float | None, show: Callable[[Any], str]
) -> str:
    rate = show is _rate
    change, percent = change_text(value, previous, rate=rate)
    if show is _size and previous is not None and value != previous:
        # Bytes change by millions: the change reads better in the values' unit.
        change = ("+" if value > previous else "-") + human_bytes(int(abs(value - previous)))
    cells = [metric, show(value), "—" if previous is None else show(previous), change, percent]
    return _row(cells, numeric=CHANGE_NUMBERS, attrs=f' data-metric="{escape(metric)}"')


def _rate(value: float) -> str:
    return f"{value:.1%}"


def _size(value: float) -> str:
    return human_bytes(int(value))


def _movers(
    chart: str, title: str, moved: tuple[date | None, date | None, list[Mover]], key: str
) -> str:
    latest, before, rows = moved
    sub = (
        f"the latest day's top {key}s against the day before (segment all): new entries, then "
        "the biggest changes in requests; — = not in that day's top list"
    )
    if latest is None:
        body = '<p class="empty">no data yet</p>'
    elif before is None:
        body = f'<p class="empty">no top list for the day before {latest} to compare with</p>'
    else:
        body = _table(
            [key, f"{latest}", f"{before}", "change", "%", "rank", "move"],
            [
                _row(
                    [
                        m.key,
                        _count(m.requests),
                        _count(m.previous_requests),
                        *(
                            change_text(m.requests, m.previous_requests)
                            if m.requests is not None
                            else ("—", "—")
                        ),
                        f"{m.previous_rank or '—'} → {m.rank or '—'}",
                        m.status,
                    ],
                    numeric=MOVER_NUMBERS,
                    attrs=f' data-status="{escape(m.status.split()[0])}"',
                )
                for m in rows
            ],
            numeric=MOVER_NUMBERS,
        )
        sub = f"{latest} against {before}: {sub}"
    return _card(chart, title, sub, body, attr="data-section")


def _count(n: float | None) -> str:
    return "—" if n is None else f"{n:,}"


def _table(head: Sequence[str], rows: Sequence[str], *, numeric: Collection[int] = ()) -> str:
    """A table of `rows` (from `_row`) under `head`; numeric columns align right, head too."""
    cells = "".join(
        f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(head)
    )
    return (
        f'<table class="data"><thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _row(cells: Sequence[str], *, numeric: Collection[int] = (), attrs: str = "") -> str:
    tds = "".join(
        f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
        for i, c in enumerate(cells)
    )
    return f"<tr{attrs}>{tds}</tr>"


def _top_paths(
    chart: str, title: str, tops: dict[tuple[date, str], list[Ranked]], unit: str
) -> str:
    variants = {}
    for (period, segment), ranked in tops.items():
        bars = []
        for r in ranked:
            parts = tuple(
                (n, STATUS_PART_COLORS[name], f"{r.label} — {name}: {n:,} of {r.requests:,}")
                for name, n in r.parts
            )
            other = r.requests - sum(n for _, n in r.parts)  # 1xx and non-standard codes
            if other:
                parts += ((other, "#cbd2d9", f"{r.label} — other: {other:,}"),)
            errors = sum(n for name, n in r.parts if name in ("4xx", "499", "5xx"))
            text = f"{r.requests:,} · {r.detail} · {errors / r.requests:.0%} errors"
            bars.append(svg.Bar(r.label, r.requests, text, parts=parts))
        variants[(period, segment)] = svg.hbars(f"{title}, {period}, {segment}", bars)
    sub = (
        "requests · bytes · error share per path (query string removed); bars split by "
        "status: 2xx green, 3xx blue, 4xx amber, 499 grey, 5xx red"
    )
    return _switch(chart, title, sub, variants, unit, "segment", attr="data-section")


def _report(
    chart: str, title: str, sub: str, tops: dict[tuple[date, str], list[Ranked]], unit: str
) -> str:
    variants = {
        key: svg.hbars(f"{title}, {key[0]}, {key[1]}", [_bar(r, SEGMENT_COLORS) for r in ranked])
        for key, ranked in tops.items()
    }
    return _switch(chart, title, sub, variants, unit, "segment", attr="data-section")


def _software(chart: str, title: str, tops: dict[tuple[date, str], list[Ranked]], unit: str) -> str:
    variants = {
        key: svg.hbars(f"{title}, {key[0]}, {key[1]}", [_bar(r, {}) for r in ranked])
        for key, ranked in tops.items()
    }
    sub = f"human requests · share of the {unit}'s human requests, per browser or OS family"
    return _switch(
        chart, title, sub, variants, unit, "family", groups=("browser", "os"), attr="data-section"
    )


def _latency(data: PageData) -> list[str]:
    if not data.daily_latency:
        note = (
            '<p class="empty">No latency in this lakehouse: its log format has no '
            "$request_time (set etl.log_format, e.g. timed; docs/log-formats.md).</p>"
        )
        return [_card("latency", "Latency", "", note, size="wide", attr="data-section")]
    days = data.daily_latency
    chart = svg.grouped_columns(
        "Latency per day",
        [f"{r.period:%b %d}" for r in days],
        [
            (name, color, [getattr(r, f"{name}_ms") for r in days])
            for name, color in PERCENTILE_COLORS
        ],
        height=240,
        unit=" ms",
    )
    sub = (
        "request_time percentiles per UTC day (from mergeable sketches); slow = over "
        f"etl.slow_request_seconds ({data.slow_request_seconds:g} s in these settings); "
        "upstream share = upstream time / request time"
    )
    per_day = _card(
        "latency",
        "Latency per day",
        sub,
        chart + _latency_table(list(reversed(days)), "day"),
        size="wide",
        attr="data-section",
    )
    variants = {}
    for key, rows in data.daily_path_latency.items():
        bars = [
            svg.Bar(
                r.path or "",
                r.p95_ms,
                f"p50 {r.p50_ms:,} · p95 {r.p95_ms:,} · p99 {r.p99_ms:,} · max {r.max_ms:,} ms",
                f"#{r.rank} {r.path}: {r.requests:,} timed requests, {r.slow_requests:,} slow"
                + _upstream_text(r),
            )
            for r in rows
        ]
        variants[key] = svg.hbars(f"Latency per path, {key[0]}", bars)
    per_path = _switch(
        "latency-per-path",
        "Latency per top path",
        "bar = p95; the most-timed paths of the day",
        variants,
        "day",
        None,
        attr="data-section",
    )
    weekly = _card(
        "weekly-latency",
        "Latency per ISO week",
        "weekly percentiles merge the days' sketches: not an average of daily values",
        _latency_table(list(reversed(data.weekly_latency)), "week"),
        attr="data-section",
    )
    return [per_day, per_path, weekly]


def _upstream_text(r: Latency) -> str:
    if r.upstream_share is None:
        return ""
    return f", upstream p95 {r.upstream_p95_ms:,} ms, {r.upstream_share:.0%} of the time upstream"


def _latency_table(rows: list[Latency], unit: str) -> str:
    head = [unit, "timed", "p50 ms", "p95 ms", "p99 ms", "max ms", "slow"]
    head += ["upstream p95 ms", "upstream share"]
    body = [
        _row(
            [
                str(r.period),
                f"{r.requests:,}",
                f"{r.p50_ms:,}",
                f"{r.p95_ms:,}",
                f"{r.p99_ms:,}",
                f"{r.max_ms:,}",
                f"{r.slow_requests:,} ({r.slow_requests / r.requests:.2%})",
                "—" if r.upstream_p95_ms is None else f"{r.upstream_p95_ms:,}",
                "—" if r.upstream_share is None else f"{r.upstream_share:.0%}",
            ],
            numeric=LATENCY_NUMBERS,
        )
        for r in rows
    ]
    return _table(head, body, numeric=LATENCY_NUMBERS)


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
