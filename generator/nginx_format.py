"""nginx's `combined` log format, byte for byte.

    $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    "$http_referer" "$http_user_agent"

nginx escapes every variable it logs (`escape=default`): `"`, `\\`, bytes below 0x20 and
bytes from 0x7F up are written as `\\xHH` with upper-case hex (ngx_http_log_escape), and
an absent value is written as `-`. `$time_local` is `%d/%b/%Y:%H:%M:%S %z` with English
month names whatever the server's locale.

The fast path (generator.render) never formats a whole line: it glues pre-formatted
fragments, so a line is `head + stamp + request_part + agent_part`. The fragment
functions below are the only place that knows where quotes, spaces and brackets go;
`format_line` joins them and is what the tests compare against.
"""

from __future__ import annotations

import datetime as dt

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# nginx accepts any offset its host has; real zones span -12:00..+14:00. Anything outside
# is rejected by the pipeline's parser ("offset out of range"), so we refuse to write it.
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60


def _escape_table() -> tuple[str, ...]:
    table = []
    for byte in range(256):
        needs_escape = byte < 0x20 or byte >= 0x7F or byte in (0x22, 0x5C)
        table.append(f"\\x{byte:02X}" if needs_escape else chr(byte))
    return tuple(table)


_ESCAPED = _escape_table()


def escape(value: str | bytes | None) -> str:
    """A variable as nginx logs it: escaped, and `-` when absent or empty.

    Strings are sent as UTF-8 (a browser's raw non-ASCII bytes); lone surrogates carry
    arbitrary bytes through `surrogateescape`, so any byte sequence can be expressed.
    """
    if value is None:
        return "-"
    if (
        isinstance(value, str)
        and value.isascii()
        and value.isprintable()
        and '"' not in value
        and "\\" not in value
    ):
        return value or "-"  # the common case, checked in C
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    if not raw:
        return "-"
    return "".join(map(_ESCAPED.__getitem__, raw))


def format_offset(minutes: int) -> str:
    """`+0545` style offset, as `%z` writes it."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{mins:02d}"


def time_local(moment: dt.datetime, offset_minutes: int) -> str:
    """`$time_local` for a UTC instant on a server whose clock is at `offset_minutes`."""
    if moment.tzinfo is None:
        raise ValueError("time_local needs an aware datetime")
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    return (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year:04d}:"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {format_offset(offset_minutes)}"
    )


def hour_stamps(utc_hour_start: dt.datetime, offset_minutes: int) -> list[str]:
    """The 3600 stamp fragments (`<time_local>] "`) of one UTC hour, indexed by second.

    Built per minute with datetime arithmetic (a +0545 server crosses a local hour
    inside one UTC hour) and per second by string concatenation, which is cheap.
    """
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    offset = format_offset(offset_minutes)
    seconds = [f'{s:02d} {offset}] "' for s in range(60)]
    stamps: list[str] = []
    for minute in range(60):
        local = (utc_hour_start + dt.timedelta(minutes=minute)).astimezone(zone)
        prefix = (
            f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year:04d}:"
            f"{local.hour:02d}:{local.minute:02d}:"
        )
        stamps.extend(prefix + s for s in seconds)
    return stamps


def head_part(remote_addr: str, remote_user: str | None) -> str:
    """`<addr> - <user> [`: everything before the timestamp."""
    return f"{remote_addr} - {escape(remote_user)} ["


def request_part(
    request: str | bytes | None, status: int, body_bytes: int, referer: str | None
) -> str:
    """`<request>" <status> <bytes> "<referer>" "`: between the timestamp and the agent."""
    return f'{escape(request)}" {status:03d} {body_bytes} "{escape(referer)}" "'


def agent_part(user_agent: str | bytes | None) -> str:
    """`<agent>"` plus the newline that ends the line."""
    return f'{escape(user_agent)}"\n'


def format_line(
    remote_addr: str,
    remote_user: str | None,
    moment: dt.datetime,
    offset_minutes: int,
    request: str | bytes | None,
    status: int,
    body_bytes: int,
    referer: str | None,
    user_agent: str | bytes | None,
) -> str:
    """One complete line (no newline), exactly as nginx writes it."""
    return (
        head_part(remote_addr, remote_user)
        + time_local(moment, offset_minutes)
        + '] "'
        + request_part(request, status, body_bytes, referer)
        + agent_part(user_agent)
    )[:-1]


# --- The other named formats (core.log_format.NAMED), as changes to combined's fragments ---
#   main   = combined + ` "$http_x_forwarded_for"`
#   timed  = main + ` $request_time $upstream_response_time`
#   vhost  = `$host ` + combined

# `$host` of a client's requests, by client slot: mostly the site, some API and bare-domain
# traffic, and clients that asked for the server by its IPv6 literal.
VHOST_HOSTS = (
    "www.example.com",
    "www.example.com",
    "www.example.com",
    "www.example.com",
    "example.com",
    "api.example.com",
    "[2001:db8::1]",
    "www.example.com",
)


def vhost_head(host: str, head: bytes) -> bytes:
    """`<host> ` before combined's head."""
    return escape(host).encode("ascii") + b" " + head


def forwarded_for(slot: int) -> str | None:
    """`$http_x_forwarded_for` of a client slot: one in ten comes through a proxy."""
    return f"203.0.113.{slot % 250 + 1}, 10.0.0.{slot % 7 + 1}" if slot % 10 == 0 else None


def with_forwarded_for(agent: bytes, value: str | None, end_line: bool) -> bytes:
    """Combined's agent fragment (`<ua>"\\n`) with ` "<x-forwarded-for>"` after it."""
    tail = f' "{escape(value)}"' + ("\n" if end_line else "")
    return agent[:-1] + tail.encode("ascii")


def seconds(millis: int | None) -> str:
    """nginx's `%T.%03M` for a time in milliseconds; `-` when there is none."""
    return "-" if millis is None else f"{millis // 1000}.{millis % 1000:03d}"


def timing_tail(request_ms: int, upstream: list[list[int | None]] | None) -> str:
    """` <request_time> <upstream_response_time>` plus the newline.

    `upstream` holds one list per location the request went through (nginx joins them
    with ` : `), each with one entry per server tried (joined with `, `; None is `-`).
    No upstream at all (a static file) is `-`.
    """
    if upstream is None:
        return f" {seconds(request_ms)} -\n"
    groups = " : ".join(", ".join(seconds(ms) for ms in group) for group in upstream)
    return f" {seconds(request_ms)} {groups}\n"
