"""An independent computation of every table, in plain Python, from the raw files.

It shares no parsing or aggregation code with the Spark job: a regular expression and
`datetime.strptime` parse the lines, dictionaries count. Only the User-Agent -> device
mapping is reused (`spark.enrich.classify`, unit-tested on its own), because re-deriving
device classes a second way would test ua-parser, not this pipeline. The limits it applies
(line length, event-time window) are read from the same settings the job gets.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from core.settings import EtlSettings
from spark.enrich import classify

_Q = r'"((?:[^"\\]|\\.)*)"'
# The client address is an IPv4 or IPv6 literal: a NUL-filled block or a byte-order mark in
# front of a line is not part of it.
LINE = re.compile(
    rf"^([0-9A-Fa-f:.]+) \S+ (\S+) \[([^\]]+)\] {_Q} ([1-5]\d\d) (\d+|-) {_Q} {_Q}(?: .*)?$"
)
# nginx's $time_local exactly; strptime alone would also take "1/Oct", "+05:30" or "Z".
TIME_LOCAL = re.compile(r"\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}")
# The widest offset java.time (and so the job) accepts.
MAX_OFFSET = timedelta(hours=18)


@dataclass(frozen=True)
class Hit:
    source_file: str
    source_line: int
    event_time: datetime
    client_ip: str
    user_agent: str | None
    body_bytes: int
    request: str = ""
    status: int = 0
    referrer: str | None = None

    @property
    def path(self) -> str | None:
        """The request's path as the parser takes it: between the method and an HTTP/x
        protocol, nothing for any other request line."""
        _method, _, rest = self.request.partition(" ")
        path, _, protocol = rest.rpartition(" ")
        return path if path and protocol.startswith("HTTP/") else None


def read_lines(path: Path) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    return data.splitlines()


def event_time(text: str) -> datetime | None:
    """UTC instant of a `$time_local` value, None if it is not one."""
    if not TIME_LOCAL.fullmatch(text):
        return None
    try:
        local = datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")
        offset = local.utcoffset()
        if offset is None or abs(offset) > MAX_OFFSET:
            return None
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # 31/Feb; 31/Dec/9999 west of UTC is year 10000
        return None


def parse(
    path: Path, etl: EtlSettings | None = None, now: datetime | None = None
) -> tuple[list[Hit], int]:
    """(accepted hits, number of rejected lines) of one file.

    `now` stands for the run's start: lines dated after now + etl.max_future_skew, or before
    etl.min_event_time, are rejected.
    """
    etl = etl or EtlSettings()
    earliest = etl.min_event_time
    latest = (now or datetime.now(UTC)) + etl.max_future_skew
    hits, rejected = [], 0
    for number, raw in enumerate(read_lines(path), start=1):
        if len(raw) > etl.max_line_bytes:
            rejected += 1
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            rejected += 1
            continue
        match = LINE.match(line)
        if not match:
            rejected += 1
            continue
        ip, _user, when, request, status, size, referrer, agent = match.groups()
        at = event_time(when)
        if at is None or not earliest <= at <= latest:
            rejected += 1
            continue
        hits.append(
            Hit(
                f"file:{path}",
                number,
                at.replace(tzinfo=None),
                ip,
                None if agent == "-" else agent,
                0 if size == "-" else int(size),
                request,
                int(status),
                None if referrer == "-" else referrer,
            )
        )
    return hits, rejected


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _top(counter: dict, n: int, key_len: int) -> list[tuple]:
    """Sort (key..., requests, bytes) by requests desc, bytes desc, key asc; keep n."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [(rank, *key, req, byt) for rank, (key, (req, byt)) in enumerate(items[:n], start=1)]


def top_ips(hits: Iterable[Hit], period_of, n: int) -> set[tuple]:
    """{(period, segment, rank, ip, requests, bytes)}"""
    counts: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for h in hits:
        # The human segment is browsers on desktops, phones and tablets; the rest is "bot".
        is_bot = classify(h.user_agent).device_type not in ("desktop", "mobile", "tablet")
        for segment in ("all", "bot" if is_bot else "human"):
            cell = counts[(period_of(h), segment)][(h.client_ip,)]
            cell[0] += 1
            cell[1] += h.body_bytes
    return {
        (period, segment, *row)
        for (period, segment), by_ip in counts.items()
        for row in _top(by_ip, n, 1)
    }


def top_devices(hits: Iterable[Hit], period_of, n: int) -> set[tuple]:
    """{(period, rank, device_type, device, requests, share rounded to 9 places)}"""
    counts: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    totals: Counter = Counter()
    for h in hits:
        d = classify(h.user_agent)
        cell = counts[period_of(h)][(d.device_type, d.device)]
        cell[0] += 1
        cell[1] += h.body_bytes
        totals[period_of(h)] += 1
    out = set()
    for period, by_device in counts.items():
        for rank, dtype, device, requests, _bytes in _top(by_device, n, 2):
            out.add((period, rank, dtype, device, requests, round(requests / totals[period], 9)))
    return out


def by_day(h: Hit) -> date:
    return h.event_time.date()


def by_week(h: Hit) -> date:
    return monday(h.event_time.date())


# --- the reports of docs/reports.md ------------------------------------------------------

Period = Callable[[Hit], date]
_HUMAN = ("desktop", "mobile", "tablet")
STATUS_CLASSES = ("2xx", "3xx", "4xx", "499", "5xx")


def is_bot(h: Hit) -> bool:
    return classify(h.user_agent).device_type not in _HUMAN


def status_class(status: int) -> str | None:
    if status == 499:
        return "499"
    return f"{status // 100}xx" if 200 <= status <= 599 else None


def normalised_path(path: str) -> str:
    """Query string and fragment cut; percent-escapes decoded when all are valid UTF-8."""
    bare = re.split(r"[?#]", path, maxsplit=1)[0]
    if re.search(r"%(?![0-9A-Fa-f]{2})", bare):
        return bare
    try:
        return unquote_to_bytes(bare).decode("utf-8")
    except UnicodeDecodeError:
        return bare


def referrer_domain(referrer: str | None) -> str | None:
    if not referrer or not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", referrer):
        return None
    try:
        return urlsplit(referrer).hostname or None
    except ValueError:
        return None


def _ranked(cells: dict, n: int) -> list[tuple]:
    """{key: (requests, bytes, *more)} -> [(rank, key, requests, bytes, *more)], ordered by
    requests desc, bytes desc, key asc."""
    items = sorted(cells.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [(rank, key, *values) for rank, (key, values) in enumerate(items[:n], start=1)]


def _segments(h: Hit) -> tuple[str, str]:
    return ("all", "bot" if is_bot(h) else "human")


def top_paths(hits: Iterable[Hit], period_of: Period, n: int) -> set[tuple]:
    """{(period, segment, rank, path, requests, bytes, 2xx, 3xx, 4xx, 499, 5xx)}"""
    cells: dict = defaultdict(lambda: defaultdict(lambda: [0] * 7))
    for h in hits:
        if h.path is None:
            continue
        for segment in _segments(h):
            cell = cells[(period_of(h), segment)][normalised_path(h.path)]
            cell[0] += 1
            cell[1] += h.body_bytes
            kind = status_class(h.status)
            if kind:
                cell[2 + STATUS_CLASSES.index(kind)] += 1
    return {(*group, *row) for group, paths in cells.items() for row in _ranked(paths, n)}


def top_not_found(hits: Iterable[Hit], period_of: Period, n: int) -> set[tuple]:
    """{(period, segment, rank, path, 404 responses)}"""
    cells: dict = defaultdict(Counter)
    for h in hits:
        if h.status == 404 and h.path is not None:
            for segment in _segments(h):
                cells[(period_of(h), segment)][normalised_path(h.path)] += 1
    out = set()
    for group, paths in cells.items():
        ordered = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        out |= {(*group, rank, path, count) for rank, (path, count) in enumerate(ordered, 1)}
    return out


def top_referrers(
    hits: Iterable[Hit], period_of: Period, n: int, site_hosts: Sequence[str]
) -> set[tuple]:
    """{(period, segment, rank, referrer_domain, requests, bytes)}"""
    cells: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for h in hits:
        domain = referrer_domain(h.referrer)
        if domain is None or domain in site_hosts:
            continue
        for segment in _segments(h):
            cell = cells[(period_of(h), segment)][domain]
            cell[0] += 1
            cell[1] += h.body_bytes
    return {(*group, *row) for group, domains in cells.items() for row in _ranked(domains, n)}


def traffic(hits: Iterable[Hit], period_of: Period) -> set[tuple]:
    """{(period, requests, bytes, 2xx, 3xx, 4xx, 499, 5xx, visitors, human_visitors)}"""
    sums: dict = defaultdict(lambda: [0] * 7)
    visitors: dict = defaultdict(set)
    humans: dict = defaultdict(set)
    for h in hits:
        cell = sums[period_of(h)]
        cell[0] += 1
        cell[1] += h.body_bytes
        kind = status_class(h.status)
        if kind:
            cell[2 + STATUS_CLASSES.index(kind)] += 1
        visitors[period_of(h)].add(h.client_ip)
        if not is_bot(h):
            humans[period_of(h)].add(h.client_ip)
    return {
        (period, *cell, len(visitors[period]), len(humans[period])) for period, cell in sums.items()
    }


def top_software(hits: Iterable[Hit], period_of: Period, n: int) -> set[tuple]:
    """{(period, kind, rank, family, requests, share rounded to 9 places)} of human hits."""
    cells: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    totals: Counter = Counter()
    for h in hits:
        device = classify(h.user_agent)
        if device.device_type not in _HUMAN:
            continue
        totals[period_of(h)] += 1
        for kind, family in (("browser", device.browser), ("os", device.os)):
            if family is not None:
                cell = cells[(period_of(h), kind)][family]
                cell[0] += 1
                cell[1] += h.body_bytes
    return {
        (period, kind, rank, family, requests, round(requests / totals[period], 9))
        for (period, kind), families in cells.items()
        for rank, family, requests, _bytes in _ranked(families, n)
    }


def nearest_rank(values: list[int], q: float) -> int:
    """The smallest value whose rank is at least q * n."""
    ordered = sorted(values)
    return ordered[min(max(math.ceil(q * len(ordered)), 1), len(ordered)) - 1]


# A KLL sketch (Spark's default k = 200) holds up to 200 values exactly; beyond, a quantile
# is a value whose rank is within about 1.65 % of q (DataSketches' bound, at 99 %).
KLL_EXACT = 200
KLL_RANK_ERROR = 0.025


def quantile_bounds(values: list[int], q: float) -> tuple[int, int]:
    """The values a sketch may return for quantile q: exactly the nearest rank when it
    holds every value, else those within its rank error."""
    error = 0.0 if len(values) <= KLL_EXACT else KLL_RANK_ERROR
    return nearest_rank(values, max(q - error, 0.0)), nearest_rank(values, min(q + error, 1.0))


def latency(
    hits: Iterable[Hit],
    timings: dict[tuple[str, int], tuple[Decimal | None, Decimal | None]],
    period_of: Period,
    n: int,
    slow_seconds: float,
) -> dict[tuple[date, int], dict]:
    """(period, rank) -> {path, requests, p50_ms .. p99_ms and upstream_p95_ms as (low, high)
    bounds, max_ms, slow_requests, upstream_share rounded to 9 places}; `timings`:
    (file, line) -> (request_time, upstream total) in seconds."""
    groups: dict = defaultdict(list)  # (period, path or None) -> [(request, upstream)]
    for h in hits:
        request, upstream = timings.get((h.source_file, h.source_line), (None, None))
        if request is None:
            continue
        groups[(period_of(h), None)].append((request, upstream))
        if h.path is not None:
            groups[(period_of(h), normalised_path(h.path))].append((request, upstream))

    def row(path: str | None, times: list[tuple[Decimal, Decimal | None]]) -> dict:
        ms = [int(r * 1000) for r, _ in times]
        upstream_ms = [int(u * 1000) for _, u in times if u is not None]
        both = [(r, u) for r, u in times if u is not None]
        total = sum(r for r, _ in both)
        percentiles = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
        return {
            "path": path,
            "requests": len(ms),
            **{name: quantile_bounds(ms, q) for name, q in percentiles.items()},
            "max_ms": max(ms),
            "slow_requests": sum(1 for r, _ in times if r > Decimal(str(slow_seconds))),
            "upstream_p95_ms": quantile_bounds(upstream_ms, 0.95) if upstream_ms else None,
            "upstream_share": round(float(sum(u for _, u in both) / total), 9) if total else None,
        }

    out = {}
    for period in {p for p, _ in groups}:
        out[(period, 0)] = row(None, groups[(period, None)])
        paths = [(path, times) for (p, path), times in groups.items() if p == period and path]
        paths.sort(key=lambda pt: (-len(pt[1]), pt[0]))
        for rank, (path, times) in enumerate(paths[:n], start=1):
            out[(period, rank)] = row(path, times)
    return out
