"""An independent computation of every table, in plain Python, from the raw files.

It shares no parsing or aggregation code with the Spark job: a regular expression and
`datetime.strptime` parse the lines, dictionaries count. Only the User-Agent -> device
mapping is reused (`spark.enrich.classify`, unit-tested on its own), because re-deriving
device classes a second way would test ua-parser, not this pipeline. The limits it applies
(line length, event-time window) are read from the same settings the job gets.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
        ip, _user, when, _request, _status, size, _referrer, agent = match.groups()
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
