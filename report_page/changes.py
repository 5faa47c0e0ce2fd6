"""What changed: each period against the one before it, and the top lists' movers.

Pure functions over rows of the report tables (as PyIceberg returns them, one dict per
row), so they are tested against hand-written rows. The previous period is the calendar
one (the day before, the ISO week before), not the previous row: a day without traffic
has no row in daily_traffic, yet it is a day with zero requests, and comparing with an
older day would misstate the change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# What the page calls an error: a response the client did not get as asked. 499 (the client
# closed the connection, nginx's own code) counts: users give up on slow pages.
ERROR_COLUMNS = ("status_4xx", "status_499", "status_5xx")
MOVERS_SHOWN = 10


@dataclass(frozen=True)
class Totals:
    """One row of daily_traffic / weekly_traffic, as the page compares them."""

    period: date
    requests: int
    visitors: int
    errors: int  # 4xx + 499 + 5xx
    bytes: int
    human_visitors: int = 0  # distinct client IPs among human requests

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Comparison:
    """One period and the period before it (None: before the first period with data)."""

    current: Totals
    previous: Totals | None


@dataclass(frozen=True)
class Mover:
    """One key of a top list on the latest day and the day before (None: not in that list)."""

    key: str
    rank: int | None
    requests: int | None
    previous_rank: int | None
    previous_requests: int | None

    @property
    def status(self) -> str:
        if self.previous_rank is None:
            return "new"
        if self.rank is None:
            return "dropped out"
        if self.rank < self.previous_rank:
            return f"up {self.previous_rank - self.rank}"
        if self.rank > self.previous_rank:
            return f"down {self.rank - self.previous_rank}"
        return "same rank"


def totals(row: Mapping[str, Any], period: str) -> Totals:
    return Totals(
        period=row[period],
        requests=row["requests"],
        visitors=row["visitors"],
        errors=sum(row[c] for c in ERROR_COLUMNS),
        bytes=row["bytes"],
        human_visitors=row["human_visitors"],
    )


def comparisons(rows: Iterable[Mapping[str, Any]], period: str, keep: int) -> list[Comparison]:
    """The latest `keep` periods, newest first, each with the calendar period before it.

    A missing row between the first period with data and the latest one is a period with
    no traffic (zeros); before the first period nothing is known, so there is no previous.
    """
    by_period = {r[period]: totals(r, period) for r in rows}
    if not by_period:
        return []
    step = timedelta(days=1 if period == "day" else 7)
    first = min(by_period)
    out = []
    current = max(by_period)
    while current >= first and len(out) < keep:
        before = current - step
        previous = by_period.get(before) or (_zero(before) if before >= first else None)
        out.append(Comparison(by_period.get(current) or _zero(current), previous))
        current = before
    return out


def _zero(period: date) -> Totals:
    return Totals(period, 0, 0, 0, 0)


def change_text(value: float, previous: float | None, *, rate: bool = False) -> tuple[str, str]:
    """(signed change, signed percent) of `value` against `previous`, as the page writes them.

    A rate's change is in percentage points. There is no percent when the previous value
    is 0 (or unknown): any growth from nothing would be "infinitely" large.
    """
    if previous is None:
        return "—", "—"
    delta = value - previous
    absolute = f"{delta * 100:+.1f} pp" if rate else f"{delta:+,}"
    if rate and abs(delta) < 0.0005:
        absolute = "±0.0 pp"
    elif not rate and delta == 0:
        absolute = "±0"
    percent = f"{delta / previous:+.1%}" if previous else "—"
    return absolute, percent


def movers(
    rows: Iterable[Mapping[str, Any]], key: str, *, segment: str = "all"
) -> tuple[date | None, date | None, list[Mover]]:
    """(latest day, day before, movers) of a daily top list.

    New entries first (most requests first), then entries in both lists by the size of
    their change in requests, then in rank, then those that dropped out of the list. A key
    outside a top list may still have had requests that day, below the list's cut-off: the
    page says "not in the top list", never 0.
    """
    lists: dict[date, dict[str, Mapping[str, Any]]] = {}
    for r in rows:
        if r["segment"] == segment:
            lists.setdefault(r["day"], {})[r[key]] = r
    if not lists:
        return None, None, []
    latest = max(lists)
    before = latest - timedelta(days=1)
    if before not in lists:
        return latest, None, []
    now, then = lists[latest], lists[before]
    moved = [
        Mover(
            k,
            now[k]["rank"] if k in now else None,
            now[k]["requests"] if k in now else None,
            then[k]["rank"] if k in then else None,
            then[k]["requests"] if k in then else None,
        )
        for k in now.keys() | then.keys()
    ]
    return latest, before, sorted(moved, key=_mover_order)[:MOVERS_SHOWN]


def _mover_order(m: Mover) -> tuple[int, int, int, str]:
    if m.previous_rank is None:
        assert m.requests is not None
        return 0, -m.requests, 0, m.key
    if m.rank is None:
        assert m.previous_requests is not None
        return 2, -m.previous_requests, 0, m.key
    assert m.requests is not None and m.previous_requests is not None
    return 1, -abs(m.requests - m.previous_requests), -abs(m.rank - m.previous_rank), m.key
