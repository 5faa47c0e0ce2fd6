"""'What changed' against hand-written report rows: previous periods, changes, movers."""

from __future__ import annotations

from datetime import date
from typing import Any

from report_page.changes import Totals, change_text, comparisons, movers

D = date(2024, 10, 7)  # a Monday


def _traffic(day: date, requests: int, visitors: int, s4: int, s499: int, s5: int) -> dict:
    return {
        "day": day,
        "requests": requests,
        "bytes": requests * 100,
        "status_2xx": requests - s4 - s499 - s5,
        "status_3xx": 0,
        "status_4xx": s4,
        "status_499": s499,
        "status_5xx": s5,
        "visitors": visitors,
        "human_visitors": visitors,
    }


def test_each_day_is_compared_with_the_calendar_day_before() -> None:
    rows = [
        _traffic(date(2024, 10, 4), 50, 5, 0, 0, 0),
        _traffic(date(2024, 10, 5), 200, 20, 10, 4, 6),
        # 10-06 had no traffic: no row, and 10-07 is compared with zero, not with 10-05.
        _traffic(D, 80, 8, 1, 0, 1),
    ]
    got = comparisons(rows, "day", keep=14)
    assert [(c.current.period, c.previous and c.previous.period) for c in got] == [
        (D, date(2024, 10, 6)),
        (date(2024, 10, 6), date(2024, 10, 5)),
        (date(2024, 10, 5), date(2024, 10, 4)),
        (date(2024, 10, 4), None),  # nothing known before the first day
    ]
    assert got[0].previous == Totals(date(2024, 10, 6), 0, 0, 0, 0)
    assert got[2].current == Totals(date(2024, 10, 5), 200, 20, 20, 20_000, 20)
    assert got[2].current.error_rate == 0.1  # (10 + 4 + 6) / 200: 499 counts as an error
    assert len(comparisons(rows, "day", keep=2)) == 2


def test_weeks_step_by_seven_days() -> None:
    rows = [
        {**_traffic(D, 700, 40, 7, 0, 0), "week_start": D},
        {**_traffic(D, 350, 30, 0, 0, 0), "week_start": date(2024, 9, 30)},
    ]
    got = comparisons(rows, "week_start", keep=8)
    assert got[0].current.period == D and got[0].previous
    assert (got[0].previous.period, got[0].previous.visitors) == (date(2024, 9, 30), 30)


def test_changes_are_signed_with_no_percent_from_zero() -> None:
    assert change_text(150, 100) == ("+50", "+50.0%")
    assert change_text(75, 100) == ("-25", "-25.0%")
    assert change_text(1_500, 1_500) == ("±0", "+0.0%")
    assert change_text(30, 0) == ("+30", "—")
    assert change_text(30, None) == ("—", "—")
    assert change_text(0.05, 0.02, rate=True) == ("+3.0 pp", "+150.0%")
    assert change_text(0.0, 0.0, rate=True) == ("±0.0 pp", "—")


def _listed(day: date, key: str, rank: int, requests: int, segment: str = "all") -> dict:
    return {"day": day, "segment": segment, "rank": rank, "path": key, "requests": requests}


def test_movers_put_new_entries_first_then_the_biggest_changes() -> None:
    before = date(2024, 10, 6)
    rows: list[dict[str, Any]] = [
        _listed(before, "/a", 1, 100),
        _listed(before, "/b", 2, 90),
        _listed(before, "/c", 3, 80),
        _listed(before, "/gone", 4, 70),
        _listed(D, "/b", 1, 200),  # +110, up 1
        _listed(D, "/a", 2, 95),  # -5, down 1
        _listed(D, "/new", 3, 60),
        _listed(D, "/c", 4, 50),  # -30, down 1
        _listed(D, "/bot-only", 1, 999, segment="bot"),  # another segment: ignored
    ]
    latest, previous, moved = movers(rows, "path")
    assert (latest, previous) == (D, before)
    assert [(m.key, m.status) for m in moved] == [
        ("/new", "new"),
        ("/b", "up 1"),
        ("/c", "down 1"),
        ("/a", "down 1"),
        ("/gone", "dropped out"),
    ]
    new, gone = moved[0], moved[-1]
    assert (new.rank, new.requests, new.previous_rank, new.previous_requests) == (3, 60, None, None)
    assert (gone.rank, gone.requests, gone.previous_rank) == (None, None, 4)


def test_no_movers_without_a_list_for_the_day_before() -> None:
    rows = [_listed(date(2024, 10, 5), "/a", 1, 10), _listed(D, "/a", 1, 10)]
    assert movers(rows, "path") == (D, None, [])
    assert movers([], "path") == (None, None, [])
