"""Hand-made nginx `combined` logs whose truth is known by construction.

The report tests compare what the page and the query engines say with numbers computed
here from the same `Request` records, in plain Python: no parser, no generator, no Spark.
The User-Agents' device types are fixed constants (checked once against
`spark.enrich.classify`); rejected lines come from the shared conformance cases.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[1] / "data"
# strftime("%b") follows the locale; nginx always writes English month names.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# (device_type, device, user agent); None is logged as "-" and classifies as "other".
AGENTS: tuple[tuple[str, str, str | None], ...] = (
    (
        "desktop",
        "Windows desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        "mobile",
        "iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    ),
    (
        "tablet",
        "iPad",
        "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    ),
    (
        "bot",
        "Googlebot",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ),
    ("other", "Unknown", None),
)
AGENT_WEIGHTS = (50, 30, 8, 10, 2)
STATUSES = (200, 304, 404, 499, 500)
STATUS_WEIGHTS = (78, 9, 8, 3, 2)
# Local-time offsets a line may be written with (minutes east of UTC): the UTC day must win.
OFFSETS = (0, 0, 0, 120, -300, 330)


@dataclass(frozen=True)
class Request:
    at: datetime  # UTC, aware
    ip: str
    status: int
    body_bytes: int
    device_type: str
    device: str
    agent: str | None
    offset_minutes: int

    @property
    def day(self) -> date:
        return self.at.date()


def make_requests(start: date, days: int, per_day: int, seed: int) -> list[Request]:
    """`days` days of traffic, a different volume each day, skewed towards a few IPs."""
    rng = random.Random(seed)
    ips = [f"198.51.100.{n}" for n in range(1, 31)] + [f"2001:db8::{n:x}" for n in range(1, 11)]
    ip_weights = [1 / (rank + 1) for rank in range(len(ips))]  # Zipf-like: clear leaders
    hour_weights = [1 + 4 * (8 <= h <= 22) for h in range(24)]  # busier in the daytime
    out = []
    for index in range(days):
        day = datetime.combine(start + timedelta(days=index), datetime.min.time(), UTC)
        for _ in range(per_day + 37 * index):
            at = day + timedelta(
                hours=rng.choices(range(24), hour_weights)[0], seconds=rng.randrange(3600)
            )
            device_type, device, agent = rng.choices(AGENTS, AGENT_WEIGHTS)[0]
            out.append(
                Request(
                    at=at,
                    ip=rng.choices(ips, ip_weights)[0],
                    status=rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                    body_bytes=rng.randrange(200, 50_000),
                    device_type=device_type,
                    device=device,
                    agent=agent,
                    offset_minutes=rng.choice(OFFSETS),
                )
            )
    return sorted(out, key=lambda r: r.at)


def render(r: Request) -> str:
    local = r.at + timedelta(minutes=r.offset_minutes)
    sign = "+" if r.offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(r.offset_minutes), 60)
    stamp = (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} "
        f"{sign}{hours:02d}{minutes:02d}"
    )
    agent = r.agent or "-"
    return (
        f'{r.ip} - - [{stamp}] "GET /p/{r.status} HTTP/1.1" {r.status} {r.body_bytes} "-" "{agent}"'
    )


def rejected_cases() -> list[tuple[str, str]]:
    """(line, reason) of every conformance case the parser must reject.

    The cases' `why` ("bad timestamp") is the ETL's `rejected_lines.reason` ("bad_timestamp").
    """
    cases = [json.loads(x) for x in (TESTDATA / "combined-cases.jsonl").read_text().splitlines()]
    return [(c["line"], c["why"].replace(" ", "_")) for c in cases if c["accept"] is False]


def write_logs(root: Path, requests: list[Request], bad_lines: list[str]) -> list[Path]:
    """One gzip file per UTC day (`dt=YYYY-MM-DD/`), bad lines in a file of their own.

    One file per day, not per hour, keeps the Spark job to a handful of tasks on a shared
    2-core machine; the ETL reads any layout.
    """
    by_day: dict[date, list[str]] = defaultdict(list)
    for r in requests:
        by_day[r.day].append(render(r))
    written = [
        _write(root / f"dt={day}/web-1.log.gz", lines) for day, lines in sorted(by_day.items())
    ]
    if bad_lines:
        first = min(by_day)
        written.append(_write(root / f"dt={first}/web-2.log.gz", bad_lines))
    return written


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    return path


# -- the truth, by construction -------------------------------------------------------------


def requests_per_day(requests: list[Request]) -> dict[date, int]:
    return dict(sorted(Counter(r.day for r in requests).items()))


def requests_per_hour(requests: list[Request]) -> dict[datetime, int]:
    hours = Counter(r.at.replace(minute=0, second=0, microsecond=0) for r in requests)
    return dict(sorted(hours.items()))


def top_ip(requests: list[Request], day: date) -> tuple[str, int]:
    """(ip, requests) ranked first on `day`: requests desc, bytes desc, IP asc.

    The tie order of every report (docs/architecture.md, "Table contracts").
    """
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in requests:
        if r.day == day:
            totals[r.ip][0] += 1
            totals[r.ip][1] += r.body_bytes
    ip, (count, _bytes) = min(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return ip, count
