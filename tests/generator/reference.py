"""A strict, plain-Python reader of nginx `combined` lines, written for these tests only.

It is deliberately independent of the generator's code (own regex, own escaping) and
follows the decisions of tests/data/README.md for the fields it returns. It is
stricter than the pipeline's parser: it accepts exactly what nginx writes (escaping as
`\\xHH` only, numeric body bytes, nothing after the user agent), so a generated line that
passes here is a line nginx could have written.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}

# Inside quotes nginx writes printable ASCII except `"` and `\`, or an `\xHH` escape.
# Possessive quantifiers: runs are taken whole and never backtracked into (fast, and no
# catastrophic backtracking on lines that do not match).
_QUOTED = r"(?:[ !#-\[\]-~]++|\\x[0-9A-F]{2})*+"
LINE = re.compile(
    r"(?P<addr>[0-9A-Fa-f:.]+) - (?P<user>(?:[!#-\[\]-~]++|\\x[0-9A-F]{2})++) "
    r"\[(?P<day>\d{2})/(?P<mon>[A-Z][a-z]{2})/(?P<year>\d{4}):"
    r"(?P<hh>\d{2}):(?P<mm>\d{2}):(?P<ss>\d{2}) (?P<off>[+-]\d{4})\] "
    rf'"(?P<request>{_QUOTED})" (?P<status>[1-5]\d\d) (?P<bytes>\d+) '
    rf'"(?P<referer>{_QUOTED})" "(?P<agent>{_QUOTED})"'
)
_PROTOCOL = re.compile(r"HTTP/\d(?:\.\d)?")
_ESCAPE = re.compile(r"\\x([0-9A-F]{2})")


@dataclass(frozen=True)
class Record:
    client_ip: str
    remote_user: str | None
    event_time_utc: dt.datetime
    offset_minutes: int
    method: str | None
    path: str | None
    protocol: str | None
    status: int
    body_bytes: int
    referrer: str | None
    user_agent: str | None
    raw: dict[str, str]  # the fields exactly as logged, for the round trip


class Rejected(ValueError):
    pass


def _absent(value: str) -> str | None:
    return None if value == "-" else value


@functools.lru_cache(maxsize=8192)  # lines of one second share their timestamp
def _utc(
    day: str, mon: str, year: str, hh: str, mm: str, ss: str, off: str
) -> tuple[dt.datetime, int]:
    if mon not in MONTHS:
        raise Rejected("unknown month")
    sign = -1 if off[0] == "-" else 1
    off_h, off_m = int(off[1:3]), int(off[3:5])
    if off_h > 14 or off_m > 59:
        raise Rejected("offset out of range")
    offset = sign * (off_h * 60 + off_m)
    try:
        local = dt.datetime(
            int(year),
            MONTHS[mon],
            int(day),
            int(hh),
            int(mm),
            int(ss),
            tzinfo=dt.timezone(dt.timedelta(minutes=offset)),
        )
    except ValueError:
        raise Rejected("impossible date") from None
    return local.astimezone(dt.UTC), offset


def parse(line: str) -> Record:
    """Parse one line (no newline) or raise Rejected saying why."""
    if not (line.isascii() and line.isprintable()):
        raise Rejected("bytes outside printable ASCII")
    match = LINE.fullmatch(line)
    if match is None:
        raise Rejected("not nginx combined")
    f = match.groupdict()
    event_time, offset = _utc(f["day"], f["mon"], f["year"], f["hh"], f["mm"], f["ss"], f["off"])
    method = path = protocol = None
    tokens = f["request"].split(" ")
    if len(tokens) >= 3 and _PROTOCOL.fullmatch(tokens[-1]):
        method, path, protocol = tokens[0], " ".join(tokens[1:-1]), tokens[-1]
    return Record(
        client_ip=f["addr"],
        remote_user=_absent(f["user"]),
        event_time_utc=event_time,
        offset_minutes=offset,
        method=method,
        path=path,
        protocol=protocol,
        status=int(f["status"]),
        body_bytes=int(f["bytes"]),
        referrer=_absent(f["referer"]),
        user_agent=_absent(f["agent"]),
        raw=f,
    )


def unescape(field: str) -> bytes:
    """The bytes the client sent, from a field as nginx logged it."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), field).encode("latin-1")


def nginx_escape(value: bytes) -> str:
    """nginx's escaping, from its documented rule (not from the generator)."""
    return "".join(f"\\x{b:02X}" if b < 0x20 or b >= 0x7F or b in b'"\\' else chr(b) for b in value)


def format_record(r: Record) -> str:
    """The line back from its logged fields: the inverse of `parse`."""
    f = r.raw
    return (
        f"{f['addr']} - {f['user']} [{f['day']}/{f['mon']}/{f['year']}:{f['hh']}:"
        f'{f["mm"]}:{f["ss"]} {f["off"]}] "{f["request"]}" {r.status:03d} {r.body_bytes} '
        f'"{f["referer"]}" "{f["agent"]}"'
    )
