"""nginx `log_format` strings: the named formats, reading a format, the variables the ETL knows.

`etl.log_format` is either a name below or the format itself, exactly as in nginx.conf:
the string (`$remote_addr - $remote_user [$time_local] ...`) or the whole directive
(`log_format main escape=json '$remote_addr ...' '"$http_x_forwarded_for"';`). This module
turns it into `LogFormat`: the text split on `"` into segments of literals and variables,
which spark/parse.py compiles into Spark SQL and generator/nginx_format.py renders.
Nothing here needs a JVM, so a bad format is a ConfigError before Spark starts.

Variables the ETL knows become typed columns of `access_logs` (`KNOWN`); any other variable
is kept as a string in the `extra` map column, keyed by its name without `$`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class Kind(StrEnum):
    """How a variable's text is checked and typed."""

    TEXT = "text"  # any escaped text; `-` is absent
    ADDRESS = "address"  # an IPv4 or IPv6 literal
    TIME_LOCAL = "time_local"  # 10/Oct/2024:13:55:36 +0000
    TIME_ISO8601 = "time_iso8601"  # 2024-10-10T13:55:36+00:00
    MSEC = "msec"  # 1728568536.123 (seconds since the epoch, millisecond resolution)
    REQUEST = "request"  # "GET /path HTTP/1.1" -> method, path, protocol
    STATUS = "status"  # three digits, 100..599
    BYTES = "bytes"  # a count of bytes; Apache's `-` is 0
    COUNT = "count"  # a non-negative integer; `-` is absent
    PORT = "port"
    SECONDS = "seconds"  # 0.004 (nginx prints milliseconds); `-` is absent
    SECONDS_LIST = "seconds_list"  # `0.004, 0.012 : 0.003` (one per upstream tried): the total


TIME_KINDS = (Kind.TIME_LOCAL, Kind.TIME_ISO8601, Kind.MSEC)
# Seconds with millisecond precision, exact: sums and percentiles of latencies stay exact.
SECONDS_TYPE = "DECIMAL(10,3)"
SQL_TYPES = {
    Kind.TEXT: "STRING",
    Kind.ADDRESS: "STRING",
    Kind.STATUS: "INT",
    Kind.BYTES: "BIGINT",
    Kind.COUNT: "BIGINT",
    Kind.PORT: "INT",
    Kind.SECONDS: SECONDS_TYPE,
    Kind.SECONDS_LIST: SECONDS_TYPE,
}


@dataclass(frozen=True)
class Variable:
    column: str  # for REQUEST: none of its own (method, path, protocol); for times: event_time
    kind: Kind


# The columns of the original `combined` schema, filled by these variables.
_CORE = {
    "remote_addr": Variable("client_ip", Kind.ADDRESS),
    "remote_user": Variable("remote_user", Kind.TEXT),
    "time_local": Variable("event_time", Kind.TIME_LOCAL),
    "time_iso8601": Variable("event_time", Kind.TIME_ISO8601),
    "msec": Variable("event_time", Kind.MSEC),
    "request": Variable("request", Kind.REQUEST),
    "status": Variable("status", Kind.STATUS),
    "body_bytes_sent": Variable("body_bytes", Kind.BYTES),
    "http_referer": Variable("referrer", Kind.TEXT),
    "http_user_agent": Variable("user_agent", Kind.TEXT),
}
# Optional columns: null in rows whose format lacks the variable (added to older tables).
OPTIONAL = {
    "host": Variable("host", Kind.TEXT),
    "server_name": Variable("server_name", Kind.TEXT),
    "remote_port": Variable("remote_port", Kind.PORT),
    "http_x_forwarded_for": Variable("forwarded_for", Kind.TEXT),
    "request_id": Variable("request_id", Kind.TEXT),
    "scheme": Variable("scheme", Kind.TEXT),
    "ssl_protocol": Variable("ssl_protocol", Kind.TEXT),
    "ssl_cipher": Variable("ssl_cipher", Kind.TEXT),
    "request_length": Variable("request_length", Kind.COUNT),
    "bytes_sent": Variable("bytes_sent", Kind.BYTES),
    "request_time": Variable("request_time", Kind.SECONDS),
    "upstream_addr": Variable("upstream_addr", Kind.TEXT),
    "upstream_status": Variable("upstream_status", Kind.TEXT),
    "upstream_connect_time": Variable("upstream_connect_time", Kind.SECONDS_LIST),
    "upstream_header_time": Variable("upstream_header_time", Kind.SECONDS_LIST),
    "upstream_response_time": Variable("upstream_response_time", Kind.SECONDS_LIST),
}
KNOWN: dict[str, Variable] = {**_CORE, **OPTIONAL}
# Unknown variables: name -> text, `-` kept as null.
EXTRA_COLUMN = "extra"
EXTRA_TYPE = "MAP<STRING, STRING>"
# Without these the table's required columns (and the reports) would have nothing to hold.
REQUIRED = ("remote_addr", "status", "body_bytes_sent")

COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
# nginx's packaged nginx.conf.
MAIN = COMBINED + ' "$http_x_forwarded_for"'
NAMED: dict[str, str] = {
    "combined": COMBINED,
    "main": MAIN,
    # `main` with the time nginx spent on the request and waited for the upstream(s).
    "timed": MAIN + " $request_time $upstream_response_time",
    # One log for many virtual hosts: the Host the client asked for, first (like Apache's
    # vhost_combined).
    "vhost": "$host " + COMBINED,
}

VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_DIRECTIVE = re.compile(r"^\s*log_format\s+(\S+)\s*")


@dataclass(frozen=True)
class Segment:
    """Text between two `"`: literals[0] var[0] literals[1] ... var[n-1] literals[n]."""

    literals: tuple[str, ...]
    variables: tuple[str, ...]


@dataclass(frozen=True)
class LogFormat:
    text: str  # the format string itself (after any directive is unwrapped)
    escape: str  # nginx's escape= parameter: default, json or none
    segments: tuple[Segment, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(v for s in self.segments for v in s.variables)

    @property
    def time_variable(self) -> str:
        """The first time variable: it sets event_time (later ones are only checked)."""
        return next(v for v in self.variables if v in KNOWN and KNOWN[v].kind in TIME_KINDS)

    @property
    def extra_variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in self.variables if v not in KNOWN))

    def columns(self) -> set[str]:
        """The optional columns this format fills."""
        return {OPTIONAL[v].column for v in self.variables if v in OPTIONAL}


def _unquote_directive(text: str) -> tuple[str, str]:
    """(format string, escape) of a whole `log_format name [escape=..] '..' '..';` directive."""
    match = _DIRECTIVE.match(text)
    assert match
    rest = text[match.end() :].strip().removesuffix(";").strip()
    escape = "default"
    if rest.startswith("escape="):
        word, _, rest = rest.partition(" ")
        escape = word.removeprefix("escape=")
        rest = rest.strip()
    pieces = []
    # nginx.conf strings: '...' or "..." with backslash escapes, concatenated.
    for quoted in re.finditer(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\S+)""", rest):
        if quoted.group(3) is not None:
            raise ValueError(
                f"expected a quoted string in the log_format directive, got {quoted.group(3)!r}"
            )
        body = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        pieces.append(re.sub(r"\\(.)", r"\1", body))
    if not pieces:
        raise ValueError("the log_format directive has no format string")
    return "".join(pieces), escape


def _segment(text: str) -> Segment:
    literals, variables, start = [], [], 0
    for match in VARIABLE.finditer(text):
        literal = text[start : match.start()]
        if variables and not literal:
            previous = variables[-1]
            raise ValueError(
                f"${previous} and ${match.group(1) or match.group(2)} have nothing between "
                "them, so a line cannot be split there; put a space or other text between them"
            )
        literals.append(literal)
        variables.append(match.group(1) or match.group(2))
        start = match.end()
    literals.append(text[start:])
    return Segment(tuple(literals), tuple(variables))


@cache
def parse_log_format(value: str) -> LogFormat:
    """A name, a format string or a whole directive -> LogFormat; ValueError if unusable."""
    text, escape = NAMED.get(value.strip(), value), "default"
    if _DIRECTIVE.match(text):
        text, escape = _unquote_directive(text)
    if escape not in ("default", "json", "none"):
        raise ValueError(f"escape={escape} is not an nginx escape mode (default, json, none)")
    segments = tuple(_segment(part) for part in text.split('"'))
    variables = [v for s in segments for v in s.variables]
    if not variables:
        names = ", ".join(NAMED)
        raise ValueError(f"{value!r} is neither a named format ({names}) nor an nginx log_format")
    missing = [f"${v}" for v in REQUIRED if v not in variables]
    if not any(v in KNOWN and KNOWN[v].kind in TIME_KINDS for v in variables):
        missing.append("a time ($time_local, $time_iso8601 or $msec)")
    if missing:
        raise ValueError(
            f"the log_format lacks {', '.join(missing)}: access_logs needs the client, the "
            "time, the status and the body bytes of every request"
        )
    return LogFormat(text, escape, segments)
