"""nginx's escaping and time format, case by case."""

from __future__ import annotations

import datetime as dt

import pytest

from generator import nginx_format
from tests.generator import reference


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ('curl/8.5.0 "quoted"', "curl/8.5.0 \\x22quoted\\x22"),
        ("C:\\Windows\\agent", "C:\\x5CWindows\\x5Cagent"),
        ("tab\there\nnewline\rcr", "tab\\x09here\\x0Anewline\\x0Dcr"),
        ("nul\x00 unit sep\x1f del\x7f", "nul\\x00 unit sep\\x1F del\\x7F"),
        ("café crème", "caf\\xC3\\xA9 cr\\xC3\\xA8me"),
        ("日本", "\\xE6\\x97\\xA5\\xE6\\x9C\\xAC"),
        (b"\x16\x03\x01\x00\xa5", "\\x16\\x03\\x01\\x00\\xA5"),
        (
            "plain Mozilla/5.0 (X11; Linux x86_64) ~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
            "plain Mozilla/5.0 (X11; Linux x86_64) ~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
        ),
        ("", "-"),
        (None, "-"),
        (b"", "-"),
    ],
)
def test_escape_cases(raw: str | bytes | None, logged: str) -> None:
    assert nginx_format.escape(raw) == logged


def test_escape_agrees_with_nginx_rule_for_every_byte() -> None:
    for byte in range(256):
        value = bytes([byte])
        assert nginx_format.escape(value) == reference.nginx_escape(value), hex(byte)
    # Upper-case hex, as ngx_http_log_escape writes it.
    assert nginx_format.escape(b"\xab") == "\\xAB"


def test_escaped_text_is_printable_ascii_without_quotes_or_lone_backslashes() -> None:
    everything = bytes(range(256)) * 2
    logged = nginx_format.escape(everything)
    assert logged.isascii() and logged.isprintable()
    assert '"' not in logged
    assert reference.unescape(logged) == everything


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "+0000"),
        (120, "+0200"),
        (345, "+0545"),
        (-570, "-0930"),
        (-720, "-1200"),
        (840, "+1400"),
    ],
)
def test_offsets(minutes: int, text: str) -> None:
    assert nginx_format.format_offset(minutes) == text


def test_time_local_uses_english_months_and_the_servers_offset() -> None:
    moment = dt.datetime(2023, 12, 31, 21, 15, 0, tzinfo=dt.UTC)
    assert nginx_format.time_local(moment, 0) == "31/Dec/2023:21:15:00 +0000"
    assert nginx_format.time_local(moment, 345) == "01/Jan/2024:03:00:00 +0545"
    assert nginx_format.time_local(moment, -570) == "31/Dec/2023:11:45:00 -0930"
    with pytest.raises(ValueError, match="aware"):
        nginx_format.time_local(moment.replace(tzinfo=None), 0)


def test_hour_stamps_cross_a_local_hour_and_day_inside_one_utc_hour() -> None:
    start = dt.datetime(2023, 12, 31, 18, 0, tzinfo=dt.UTC)
    stamps = nginx_format.hour_stamps(start, 345)
    assert len(stamps) == 3600
    assert stamps[0] == '31/Dec/2023:23:45:00 +0545] "'
    assert stamps[899] == '31/Dec/2023:23:59:59 +0545] "'
    assert stamps[900] == '01/Jan/2024:00:00:00 +0545] "'
    assert stamps[3599] == '01/Jan/2024:00:44:59 +0545] "'
    for second in (0, 1, 1234, 3599):
        moment = start + dt.timedelta(seconds=second)
        assert stamps[second] == nginx_format.time_local(moment, 345) + '] "'


def test_format_line_matches_a_line_written_by_hand() -> None:
    line = nginx_format.format_line(
        "203.0.113.9",
        None,
        dt.datetime(2024, 10, 10, 13, 55, 36, tzinfo=dt.UTC),
        0,
        'GET /search?q="hello" HTTP/1.1',
        200,
        99,
        None,
        'curl/8.5.0 "quoted"',
    )
    assert line == (
        "203.0.113.9 - - [10/Oct/2024:13:55:36 +0000] "
        '"GET /search?q=\\x22hello\\x22 HTTP/1.1" 200 99 "-" '
        '"curl/8.5.0 \\x22quoted\\x22"'
    )


def test_format_line_for_a_user_an_ipv6_client_and_a_connection_without_request() -> None:
    moment = dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.UTC)
    line = nginx_format.format_line("2001:db8::1", "alice", moment, -570, None, 400, 0, None, None)
    assert line == '2001:db8::1 - alice [31/Dec/2023:20:00:00 -0930] "-" 400 0 "-" "-"'
    record = reference.parse(line)
    assert record.event_time_utc == moment
    assert (record.remote_user, record.method, record.path) == ("alice", None, None)
