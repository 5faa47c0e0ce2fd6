"""The log_format scenario's report: the cost per extra field is the time over combined
divided by the fields a format adds (figures made up here, worked out by hand)."""

from __future__ import annotations

from benchmarks.formats import FormatResult, report


def test_cost_per_extra_field_is_the_time_over_combined_per_added_field() -> None:
    text = report(
        1_000_000,
        [
            FormatResult("combined", 8, 247.0, 10.0),
            FormatResult("main", 9, 254.0, 10.5),
            FormatResult("timed", 11, 265.0, 11.5),
        ],
    )
    assert "| combined | 8 | 247 | 10.00 | 10,000 | 0 | — |" in text
    assert "| main | 9 | 254 | 10.50 | 10,500 | 1 | 500 |" in text
    assert "| timed | 11 | 265 | 11.50 | 11,500 | 3 | 500 |" in text
