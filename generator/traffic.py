"""What to generate: the spec, and how its lines spread over hours, files and client kinds.

Humans follow the clock of the site's audience (taken to be the server's zone, so a
+0530 server has its evening peak at 14:00-16:00 UTC): quiet around 04:00, busy in the
evening, a bit less on weekends, each day a little different. Crawlers, monitors and
scanners do not sleep: their rate is flat (scanners in bursts). Over a full day about
72% of requests are human, 22% crawlers, 2% monitors and 4% scanners.

The plan is a pure function of the spec: the same spec always gives the same files with
the same line counts, whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from dataclasses import dataclass

from core.errors import ConfigError
from core.log_format import NAMED
from generator.clients import split_exactly
from generator.nginx_format import MAX_OFFSET_MINUTES, MIN_OFFSET_MINUTES

KINDS = ("human", "crawler", "monitor", "scanner")
KIND_SHARES = (0.72, 0.22, 0.02, 0.04)

# Relative human traffic by local hour (00..23): an online shop's day.
HUMAN_BY_LOCAL_HOUR = (
    0.42,
    0.28,
    0.19,
    0.14,
    0.12,
    0.13,
    0.21,
    0.36,
    0.54,
    0.68,
    0.78,
    0.84,
    0.88,
    0.86,
    0.83,
    0.82,
    0.84,
    0.88,
    0.94,
    1.00,
    1.00,
    0.93,
    0.78,
    0.60,
)
WEEKDAY_FACTOR = (1.0, 1.02, 1.0, 0.98, 0.95, 0.82, 0.88)  # Monday..Sunday

MAX_DAYS = 3660
MAX_FILES_PER_HOUR = 60
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True)
class TrafficSpec:
    """A run: `lines` requests over `days` UTC days from `start`, reproducible from `seed`."""

    start: dt.date
    days: int = 3
    lines: int = 100_000
    seed: int = 42
    files_per_hour: int = 1
    utc_offset_minutes: int = 0
    host: str = "web-1"
    # A name in core.log_format.NAMED: combined, main, timed or vhost.
    log_format: str = "combined"

    def __post_init__(self) -> None:
        # Fail fast, naming the setting: a bad spec must not start a long run.
        if isinstance(self.start, dt.datetime) or not isinstance(self.start, dt.date):
            raise ConfigError(f"generator: start must be a date (got {self.start!r})")
        _check_int("days", self.days, 1, MAX_DAYS)
        _check_int("lines", self.lines, 0, None)
        _check_int("seed", self.seed, None, None)
        _check_int("files_per_hour", self.files_per_hour, 1, MAX_FILES_PER_HOUR)
        _check_int(
            "utc_offset_minutes", self.utc_offset_minutes, MIN_OFFSET_MINUTES, MAX_OFFSET_MINUTES
        )
        if self.log_format not in NAMED:
            raise ConfigError(
                f"generator: log_format must be one of {', '.join(NAMED)} (got {self.log_format!r})"
            )
        if not isinstance(self.host, str) or not _HOST.fullmatch(self.host):
            raise ConfigError(
                f"generator: host must be 1-63 letters, digits, '.', '_' or '-' "
                f"(it goes into file names; got {self.host!r})"
            )


def _check_int(name: str, value: object, low: int | None, high: int | None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"generator: {name} must be an integer (got {value!r})")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"generator: {name} must be {bounds} (got {value})")


@dataclass(frozen=True)
class FilePlan:
    """One output file: a part of one UTC hour."""

    utc_start: dt.datetime
    part: int
    lines: int
    # Relative rates of KINDS in this hour; the renderer draws each line's kind from them.
    kind_weights: tuple[float, ...]
    host: str
    parts: int

    @property
    def dt(self) -> str:
        return self.utc_start.strftime("%Y-%m-%d")

    @property
    def hour(self) -> str:
        return self.utc_start.strftime("%H")

    @property
    def name(self) -> str:
        stamp = self.utc_start.strftime("%Y%m%d%H")
        suffix = f"-{self.part:02d}" if self.parts > 1 else ""
        return f"access-{self.host}-{stamp}{suffix}.log.gz"

    @property
    def relative_path(self) -> str:
        """`nginx/dt=YYYY-MM-DD/hour=HH/<name>`: the raw layout (docs/architecture.md)."""
        return f"nginx/dt={self.dt}/hour={self.hour}/{self.name}"


def rng_for(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream per purpose (plan, population, file, ...)."""
    digest = hashlib.blake2b(repr((seed, *labels)).encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


def plan_files(spec: TrafficSpec) -> list[FilePlan]:
    """Every file of the run, in time order, with line counts adding up to `spec.lines`."""
    rng = rng_for(spec.seed, "plan")
    start = dt.datetime.combine(spec.start, dt.time(), tzinfo=dt.UTC)
    hours = [start + dt.timedelta(hours=h) for h in range(spec.days * 24)]
    day_factor = [rng.uniform(0.9, 1.1) for _ in range(spec.days)]
    offset = dt.timedelta(minutes=spec.utc_offset_minutes)

    human = []
    for i, utc in enumerate(hours):
        local_mid = utc + dt.timedelta(minutes=30) + offset
        human.append(
            HUMAN_BY_LOCAL_HOUR[local_mid.hour]
            * WEEKDAY_FACTOR[local_mid.weekday()]
            * day_factor[i // 24]
        )
    # Flat rates for the rest, scaled so the day-long shares match KIND_SHARES.
    per_human = sum(human) / len(human) / KIND_SHARES[0]
    weights = []
    for h in human:
        burst = rng.uniform(0.4, 1.8)  # scanners come in waves
        weights.append(
            (
                h,
                per_human * KIND_SHARES[1],
                per_human * KIND_SHARES[2],
                per_human * KIND_SHARES[3] * burst,
            )
        )

    parts = spec.files_per_hour
    file_weights = [sum(w) / parts for w in weights for _ in range(parts)]
    counts = split_exactly(spec.lines, file_weights)
    return [
        FilePlan(
            utc_start=utc,
            part=p,
            lines=counts[i * parts + p],
            kind_weights=weights[i],
            host=spec.host,
            parts=parts,
        )
        for i, utc in enumerate(hours)
        for p in range(parts)
    ]
