"""Parse nginx access-log lines in any `log_format`, with Spark SQL functions only.

The format (core/log_format.py) is compiled into column expressions; there is no per-row
Python. The decisions are fixed by the conformance cases in tests/data/ (`combined` and
each named format). Speed comes from splitting on `"` and slicing at the format's literal
text with `locate`/`substring` instead of one big `regexp_extract` per field (17.7 s vs
52 s for 10M lines, docs/decisions/0004); the only regular expressions run on short field
values or on lines already known to be bad.

nginx's `escape=default` writes `"` inside a value as `\\x22`, so `"` splits a line into the
format's segments exactly; `escape=json` writes `\\"`, which is handled like Apache's (see
below). Each segment is `literal $var literal $var ... literal`: a variable's value ends at
the first occurrence of the literal after it, the last one at the segment's end.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from core.log_format import (
    EXTRA_COLUMN,
    EXTRA_TYPE,
    KNOWN,
    OPTIONAL,
    SECONDS_TYPE,
    SQL_TYPES,
    TIME_KINDS,
    VARIABLE,
    Kind,
    LogFormat,
    Segment,
    parse_log_format,
)
from core.names import Reason
from core.settings import EtlSettings, EventTimeWindow

# Apache (and nginx's escape=json) escape `"` as `\"` and `\` as `\\` (nginx's default uses
# `\x22` and `\x5C`, which contain no quote). Both escapes are swapped for control
# characters before splitting on `"` and swapped back afterwards, so string fields are kept
# exactly as logged.
_ESCAPED_BACKSLASH = "\u0002"
_ESCAPED_QUOTE = "\u0001"
TIME_FORMAT = "dd/MMM/yyyy:HH:mm:ss Z"
ISO8601_FORMAT = "yyyy-MM-dd'T'HH:mm:ssXXX"

# The columns every format fills (the original `combined` schema), then the optional ones
# (null when the format lacks the variable), then unknown variables by name.
CORE_FIELDS = (
    "event_time",
    "client_ip",
    "remote_user",
    "method",
    "path",
    "protocol",
    "status",
    "body_bytes",
    "referrer",
    "user_agent",
)
OPTIONAL_FIELDS = {v.column: v.kind for v in OPTIONAL.values()}
ACCESS_FIELDS = (*CORE_FIELDS, *OPTIONAL_FIELDS, EXTRA_COLUMN)

# nginx prints times as %T.%03M; seven digits of seconds is what DECIMAL(10,3) holds.
_SECONDS = r"[0-9]{1,7}\.[0-9]{3}"
# One entry per upstream tried: `, ` between servers of a group, ` : ` across internal
# redirects; `-` for one that gave no response.
_SECONDS_LIST = rf"^(-|{_SECONDS})((, | : )(-|{_SECONDS}))*$"
# Variables whose text never holds a space, so a truncated line can be recognised by them.
_SPACE_FREE = (
    Kind.TEXT,  # outside quotes: $remote_user, $host, ...
    Kind.ADDRESS,
    Kind.STATUS,
    Kind.BYTES,
    Kind.COUNT,
    Kind.PORT,
    Kind.SECONDS,
    Kind.MSEC,
    Kind.TIME_ISO8601,
)


def _unescape_placeholders(col: Column) -> Column:
    # Placeholders exist only in lines that had a backslash; the rest skip the replace,
    # whose byte-by-byte search was a quarter of the parser's CPU time (JFR profile).
    return F.when(
        F.col("_escaped"),
        F.replace(
            F.replace(col, F.lit(_ESCAPED_QUOTE), F.lit('\\"')),
            F.lit(_ESCAPED_BACKSLASH),
            F.lit("\\\\"),
        ),
    ).otherwise(col)


def _at(array: Column, index: int) -> Column:
    # NULL past the end (getItem raises under ANSI mode, and Spark may evaluate it early
    # as a shared subexpression, before a size check that would have guarded it).
    return F.get(array, F.lit(index))


def _locate(literal: str, text: Column, start: Column | int) -> Column:
    # F.locate takes its start position only as a Python int.
    return F.call_function("locate", F.lit(literal), text, F.lit(start))


def _dash_is_null(col: Column) -> Column:
    return F.when(col != "-", col)


def _seconds_total(text: Column) -> Column:
    """Seconds as DECIMAL; a list (it has a space) is summed, its `-` entries skipped."""
    as_seconds = lambda value: value.try_cast(SECONDS_TYPE)  # noqa: E731
    total = F.aggregate(
        F.split(text, "[ ,:]+"),
        F.lit(None).cast(SECONDS_TYPE),
        lambda acc, value: F.coalesce(
            (F.coalesce(acc, F.lit(0)) + as_seconds(value)).try_cast(SECONDS_TYPE), acc
        ),
    )
    return F.when(F.contains(text, F.lit(" ")), total).otherwise(as_seconds(text))


class _Compiled:
    """The format's segments as staged column expressions, in the order Spark needs them."""

    def __init__(self, fmt: LogFormat) -> None:
        self.fmt = fmt
        self.n = len(fmt.segments)
        last = fmt.segments[-1]
        # A format that ends in a variable gives it the rest of the line; one that ends in
        # text tolerates more after it (separated by a space), as nginx's `main` adds to
        # `combined`.
        self.ends_in_variable = bool(last.variables) and last.literals[-1] == ""
        # Per depth (the k-th literal of a segment), column name -> where that literal
        # starts: each depth needs the one before it, so each is a step of its own.
        self.positions: list[dict[str, Column]] = []
        self.checks: list[Column] = []  # the line has the format's shape
        self.values: list[tuple[str, Column]] = []  # (variable, its text) in line order
        for index, segment in enumerate(fmt.segments):
            self._segment(index, segment)

    def _position(self, depth: int, name: str, expr: Column) -> Column:
        while len(self.positions) <= depth:
            self.positions.append({})
        self.positions[depth][name] = expr
        return F.col(name)

    def _segment(self, index: int, segment: Segment) -> None:
        text = _at(F.col("_parts"), index)
        literals, variables = segment.literals, segment.variables
        is_last = index == self.n - 1
        if not variables:
            if is_last:
                tail = F.substring(text, len(literals[0]) + 1, 1)
                self.checks.append(
                    F.startswith(text, F.lit(literals[0])) & ((text == literals[0]) | (tail == " "))
                )
            else:
                self.checks.append(text == literals[0])
            return
        if literals[0]:
            self.checks.append(F.startswith(text, F.lit(literals[0])))
        start: Column | int = len(literals[0]) + 1
        for k, variable in enumerate(variables):
            after = literals[k + 1]
            final = k == len(variables) - 1
            if final and not after:
                # The rest of the segment (the whole of it for a quoted `"$var"`).
                whole = isinstance(start, int) and start == 1
                value = text if whole else F.substring(text, start, 1 << 30)
            elif final and not is_last:
                # The segment ends with this literal.
                end = F.length(text) - len(after)
                value = F.substring(text, start, end - start + 1)
                self.checks.append(F.endswith(text, F.lit(after)) & (end >= start - 1))
            else:
                # The first occurrence of the literal after the value ends it.
                pos = self._position(k, f"_pos_{index}_{k}", _locate(after, text, start))
                value = F.substring(text, start, pos - start)
                self.checks.append(pos >= start)
                start = pos + len(after)
                if final:  # the format's last literal: more text only after a space
                    tail = F.substring(text, start, 1)
                    self.checks.append((F.length(text) < start) | (tail == " "))
            self.values.append((variable, value))

    @property
    def shape_ok(self) -> Column:
        count = F.size(F.col("_parts"))
        size_ok = (count == self.n) if self.ends_in_variable else (count >= self.n)
        ok = size_ok
        for check in self.checks:
            ok = ok & check
        return F.coalesce(ok, F.lit(False))

    def start_pattern(self) -> str | None:
        """How a line of this format starts, up to its first field that may hold a space."""
        pattern, start, seen = "^", 0, 0
        for match in VARIABLE.finditer(self.fmt.text):
            name = match.group(1) or match.group(2)
            pattern += re.escape(self.fmt.text[start : match.start()])
            quoted = self.fmt.text[: match.start()].count('"') % 2 == 1
            kind = KNOWN[name].kind if name in KNOWN else Kind.TEXT
            if quoted or kind not in _SPACE_FREE:
                break
            pattern += r"\S+"
            start, seen = match.end(), seen + 1
        return pattern if seen else None


def _typed(kind: Kind, text: Column) -> tuple[Column | None, Column]:
    """(check, value) of a variable's text; check None when any text is accepted."""
    digits = lambda n: text.rlike(f"^[0-9]{{1,{n}}}$")  # noqa: E731
    dash = text == "-"
    match kind:
        case Kind.ADDRESS:
            return text.rlike("^[0-9A-Fa-f:.]+$"), text
        case Kind.TEXT:
            return None, _dash_is_null(_unescape_placeholders(text))
        case Kind.REQUEST:
            return None, _unescape_placeholders(text)
        case Kind.TIME_LOCAL:
            return None, F.try_to_timestamp(text, F.lit(TIME_FORMAT))
        case Kind.TIME_ISO8601:
            return None, F.try_to_timestamp(text, F.lit(ISO8601_FORMAT))
        case Kind.MSEC:
            millis = F.replace(text, F.lit("."), F.lit("")).try_cast("bigint")
            return None, F.when(text.rlike(r"^[0-9]{1,11}\.[0-9]{3}$"), F.timestamp_millis(millis))
        case Kind.STATUS:
            return text.rlike("^[1-5][0-9][0-9]$"), text.try_cast("int")
        case Kind.BYTES:
            # Apache writes `-` for no body.
            value = F.when(dash, F.lit(0).cast("bigint")).otherwise(text.try_cast("bigint"))
            return dash | digits(18), value
        case Kind.COUNT:
            return dash | digits(18), text.try_cast("bigint")
        case Kind.PORT:
            return dash | (digits(5) & (text.try_cast("int") <= 65535)), text.try_cast("int")
        case Kind.SECONDS:
            return dash | text.rlike(f"^{_SECONDS}$"), text.try_cast(SECONDS_TYPE)
        case Kind.SECONDS_LIST:
            return text.rlike(_SECONDS_LIST), _seconds_total(text)
    raise AssertionError(kind)


def parse_lines(
    raw: DataFrame,
    max_line_bytes: int,
    window: EventTimeWindow | None = None,
    log_format: str = "combined",
) -> DataFrame:
    """`raw(value, ...)` -> the access-log fields plus `reject_reason` (null when accepted).

    `log_format` is what `etl.log_format` holds (a name or nginx's format). Every other
    input column is passed through unchanged. The work happens in steps that each keep
    their results as columns (`_parts`, `_pos_*`, `_v*`, ...): Spark does not share a
    subexpression between the branches of a CASE WHEN, so one big expression would split
    each line once per output field (measured: 4x slower).

    Event times outside `window` (both ends included) are rejected as `out_of_range`;
    without a window, the default settings' window around the current time applies.
    """
    fmt = parse_log_format(log_format)
    compiled = _Compiled(fmt)
    value = F.col("value")
    # Cheap tests first: rtrim, length and replace all walk the line byte by byte in
    # Spark, so they run only on the lines that need them (CRLF, escapes).
    line = F.when(F.endswith(value, F.lit("\r")), F.rtrim(value, F.lit("\r"))).otherwise(value)
    # Java's String.split has a fast path for a one-character literal: this finds a
    # backslash far faster than a replace that finds none.
    escaped = F.size(F.split(value, r"\\", 2)) > 1
    protected = F.when(
        F.col("_escaped"),
        F.replace(
            F.replace(F.col("_line"), F.lit("\\\\"), F.lit(_ESCAPED_BACKSLASH)),
            F.lit('\\"'),
            F.lit(_ESCAPED_QUOTE),
        ),
    ).otherwise(F.col("_line"))
    lined = raw.withColumns({"_line": line, "_escaped": escaped})
    frame = lined.withColumns(
        {"_line_empty": F.octet_length("_line") == 0, "_parts": F.split(protected, '"')}
    )
    # Literal positions, one step per depth: each depends on the one before it.
    for stage in compiled.positions:
        frame = frame.withColumns(stage)

    # Each variable's text, then its check and typed value.
    texts = {f"_v{i}": text for i, (_, text) in enumerate(compiled.values)}
    frame = frame.withColumns({**texts, "_shape_ok": compiled.shape_ok})
    time_at = next(i for i, (name, _) in enumerate(compiled.values) if name == fmt.time_variable)
    anchor_checks: list[Column] = []  # fields before the time: is this a log line at all?
    field_checks: list[Column] = []
    typed: dict[str, Column] = {}
    extra: dict[str, Column] = {}
    for i, (name, _) in enumerate(compiled.values):
        text = F.col(f"_v{i}")
        if name not in KNOWN:
            extra.setdefault(name, _dash_is_null(_unescape_placeholders(text)))
            continue
        variable = KNOWN[name]
        check, typed_value = _typed(variable.kind, text)
        if variable.kind in TIME_KINDS and i != time_at:
            # A second time variable: checked, but the first one is the event time.
            check = typed_value.isNotNull()
        elif variable.column not in typed:
            typed[variable.column] = typed_value
        if check is not None:
            (anchor_checks if i < time_at else field_checks).append(check)

    def all_of(checks: list[Column]) -> Column:
        ok = F.lit(True)
        for check in checks:
            ok = ok & check
        return ok

    frame = frame.withColumns(
        {
            "_anchor_ok": all_of(anchor_checks),
            "_fields_ok": all_of(field_checks),
            **{f"_t_{column}": expr for column, expr in typed.items()},
        }
    )

    parts, shape_ok = F.col("_parts"), F.col("_shape_ok")
    start = compiled.start_pattern()
    # A line that starts like the format but lacks its closing fields was cut off.
    looks_like_log_start = F.col("_line").rlike(start) if start else F.lit(False)
    event_time = F.col("_t_event_time")
    earliest, latest = window or EtlSettings().event_time_window(datetime.now(UTC))
    reason = (
        F.when(F.col("_line_empty"), Reason.EMPTY)
        .when(~F.is_valid_utf8(value), Reason.INVALID_UTF8)
        .when(F.octet_length(value) > max_line_bytes, Reason.TOO_LONG)
        # A line that ends with a `"` is whole: a line of a shorter format, not a cut one.
        .when(
            ~shape_ok
            & (F.size(parts) < compiled.n)
            & ~F.endswith(F.col("_line"), F.lit('"'))
            & looks_like_log_start,
            Reason.TRUNCATED,
        )
        # Every field in place, but the time is not in the format's time format: the
        # timestamp is what is wrong, not the line. Unless what comes before the time is
        # not what the format has there: then it is not a log line at all.
        .when(~shape_ok | ~F.col("_anchor_ok"), Reason.MALFORMED)
        .when(event_time.isNull(), Reason.BAD_TIMESTAMP)
        .when(~F.col("_fields_ok"), Reason.MALFORMED)
        .when((event_time < F.lit(earliest)) | (event_time > F.lit(latest)), Reason.OUT_OF_RANGE)
    )
    judged = frame.withColumn("reject_reason", reason)

    fields: dict[str, Column] = {
        column: F.col(f"_t_{column}") for column in typed if column != "request"
    }
    if "request" in typed:
        request = F.col("_t_request")
        # Staged like the rest: each is used by three output fields.
        judged = judged.withColumns(
            {
                "_method": F.substring_index(request, " ", 1),
                "_protocol": F.substring_index(request, " ", -1),
            }
        )
        method, protocol = F.col("_method"), F.col("_protocol")
        path_len = F.length(request) - F.length(method) - F.length(protocol) - 2
        is_http = F.startswith(protocol, F.lit("HTTP/")) & (path_len >= 1)
        fields |= {
            "method": F.when(is_http, method),
            "path": F.when(is_http, F.substring(request, F.length(method) + 2, path_len)),
            "protocol": F.when(is_http, protocol),
        }
    if extra:
        fields[EXTRA_COLUMN] = F.create_map(
            *[c for name, text in extra.items() for c in (F.lit(name), text)]
        )
    # Columns the format lacks: typed nulls, so every format stages the same schema.
    types = {column: "string" for column in CORE_FIELDS} | {
        **{column: SQL_TYPES[kind] for column, kind in OPTIONAL_FIELDS.items()},
        EXTRA_COLUMN: EXTRA_TYPE,
    }
    accepted = F.col("reject_reason").isNull()
    return judged.select(
        *raw.columns,
        *[
            F.when(accepted, fields[name]).alias(name)
            if name in fields
            else F.lit(None).cast(types[name]).alias(name)
            for name in ACCESS_FIELDS
        ],
        "reject_reason",
    )
