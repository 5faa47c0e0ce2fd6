"""Retention covers every report and aggregate table: the predicates, written out by hand."""

from __future__ import annotations

from datetime import date

from core.names import REPORT_TABLES, Table
from core.settings import RetentionSettings
from spark.maintenance import retention_predicates

TODAY = date(2024, 10, 31)


def test_reports_days_deletes_old_days_and_weeks_ended_before_the_cutoff() -> None:
    found = retention_predicates(RetentionSettings(reports_days=30), TODAY)
    # Cut-off 2024-10-01 (a Tuesday): the week of Monday 2024-09-23 ended on the 29th.
    assert found[Table.DAILY_TOP_PATHS] == "day < DATE '2024-10-01'"
    assert found[Table.WEEKLY_LATENCY] == "week_start < DATE '2024-09-25'"
    assert set(found) == set(REPORT_TABLES)
    assert {p for name, p in found.items() if name.startswith("daily_")} == {
        "day < DATE '2024-10-01'"
    }
    assert {p for name, p in found.items() if name.startswith("weekly_")} == {
        "week_start < DATE '2024-09-25'"
    }


def test_access_logs_days_also_deletes_every_aggregate() -> None:
    found = retention_predicates(RetentionSettings(access_logs_days=10), TODAY)
    assert found == {
        Table.ACCESS_LOGS: "event_time < TIMESTAMP '2024-10-21 00:00:00'",
        Table.DAILY_IP_COUNTS: "day < DATE '2024-10-21'",
        Table.DAILY_AGENT_COUNTS: "day < DATE '2024-10-21'",
        Table.DAILY_PATH_COUNTS: "day < DATE '2024-10-21'",
        Table.DAILY_REFERRER_COUNTS: "day < DATE '2024-10-21'",
    }
