"""Daily latency from request_time, against values worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from spark.latency import daily_latency

pytestmark = pytest.mark.spark

SCHEMA = "event_time TIMESTAMP, request_time DECIMAL(10,3), upstream_response_time DECIMAL(10,3)"


def test_percentiles_max_slow_count_and_upstream_share_per_day(spark: Any) -> None:
    day1 = datetime(2024, 10, 7, 12, 0)
    # Day 1: 0.002, 0.004 .. 0.200 s and one 2.500 s request; upstream took half of each.
    rows = [(day1, Decimal(2 * k) / 1000, Decimal(k) / 1000) for k in range(1, 101)]
    rows.append((day1, Decimal("2.500"), Decimal("1.250")))
    # Day 2: two requests, one without an upstream (static); one without request_time.
    day2 = datetime(2024, 10, 8, 9, 0)
    rows += [
        (day2, Decimal("0.200"), Decimal("0.100")),
        (day2, Decimal("0.400"), None),
        (day2, None, None),
    ]
    # A day whose format logged no request_time has no row.
    rows.append((datetime(2024, 10, 9), None, None))
    result = {
        r["day"]: r.asDict()
        for r in daily_latency(spark.createDataFrame(rows, SCHEMA), 1.0).collect()
    }
    assert set(result) == {date(2024, 10, 7), date(2024, 10, 8)}
    first = result[date(2024, 10, 7)]
    # 101 values; nearest rank: the 51st, the 96th (ceil(95.95)), the 100th (ceil(99.99)).
    assert {
        k: first[k] for k in ("requests", "p50_s", "p95_s", "p99_s", "max_s", "slow_requests")
    } == {
        "requests": 101,
        "p50_s": Decimal("0.102"),
        "p95_s": Decimal("0.192"),
        "p99_s": Decimal("0.200"),
        "max_s": Decimal("2.500"),
        "slow_requests": 1,
    }
    assert first["upstream_share"] == pytest.approx(0.5)
    second = result[date(2024, 10, 8)]
    assert (second["requests"], second["max_s"], second["slow_requests"]) == (
        2,
        Decimal("0.400"),
        0,
    )
    # Only the request that logged both times counts: 0.100 of 0.200.
    assert second["upstream_share"] == pytest.approx(0.5)
