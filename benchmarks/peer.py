"""The honest single-node peer: DuckDB doing the ETL's work on the same files (issue #15).

    honest_peer(files, out)  -> PeerResult (seconds per part, rows accepted and rejected)

What it does, part by part, as the ETL does for the default `combined` format:

1. **parse**: read the gzip files line by line (DuckDB's CSV reader, one column), number the
   lines per file, split each line into the format's fields as spark/parse.py does (on `"`,
   then at the format's literal text) and judge it with the ETL's rules, in the ETL's
   order: empty, too long, truncated, malformed (the shape, the client address), bad
   timestamp (including an offset beyond ±18:00, which Spark refuses and DuckDB's `%z`
   would accept), malformed (status, body bytes), out of the event-time window. A rejected
   line keeps its reason and its text, cut to `etl.rejected_line_keep_chars`; it is never
   half-parsed.
2. **classify**: the distinct User-Agents of the accepted lines, each classified once in
   Python by the ETL's own classifier (`spark.enrich.classify`), then joined back in
   DuckDB (a missing or unknown agent is `other`/`Unknown`, as in the ETL).
3. **write**: access_logs as zstd Parquet partitioned by UTC day, with the columns of the
   ETL's table (spark/tables.py; the optional `log_format` columns are null for `combined`
   and left out), and rejected_lines as one zstd Parquet file.
4. **reports**: the per-day aggregates (per IP and bot flag, per device), then the four
   reports from them (daily and weekly top IPs per segment all/human/bot, daily and weekly
   top devices with their share), ranked as the ETL ranks, written as zstd Parquet.

Not done, where the ETL differs (cheap to state, not cheap to mimic): lines that are not
valid UTF-8 make DuckDB's reader fail rather than reject them; a bare carriage return
inside a line (nginx writes it as `\\x0D`) ends the line in DuckDB; privacy policies
(`etl.client_ip`, `redact_query_params`) are not applied (their defaults change nothing);
there is no idempotency, ledger or run record, and nothing is committed to a catalog.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from core.names import Reason, Table
from core.settings import EtlSettings
from spark.enrich import HUMAN_DEVICE_TYPES, UNKNOWN, classify

CORES = os.cpu_count() or 1

# Parts of the peer, in order; their seconds add up to the peer's time.
PARSE, CLASSIFY, WRITE, REPORTS = (
    "parse + judge lines",
    "classify User-Agents + join",
    "write Parquet (zstd, by day)",
    "four reports",
)
PARTS = (PARSE, CLASSIFY, WRITE, REPORTS)

# What starts a log line up to its time: a line that starts so but lacks its closing
# fields was cut off (spark/parse.py's start_pattern for `combined`).
_LOG_START = r"^\S+ - \S+ \["


@dataclass
class PeerResult:
    seconds: dict[str, float] = field(default_factory=dict)
    accepted: int = 0
    rejected: int = 0
    user_agents: int = 0

    @property
    def total_s(self) -> float:
        return sum(self.seconds.values())


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unescaped(column: str) -> str:
    """A string field as logged: the placeholders of `\"` and `\\` put back."""
    return (
        f"CASE WHEN escaped THEN replace(replace({column}, chr(1), '\\\"'), chr(2), '\\\\') "
        f"ELSE {column} END"
    )


def _parse_sql(files: list[str], etl: EtlSettings, run_start: datetime) -> str:
    """Lines -> the `combined` fields and a reject reason, as spark/parse.py decides them.

    The same method as the ETL's parser: split each line on `"` (Apache's `\"` and `\\`
    escapes swapped for control characters first, on lines with a backslash only), then
    slice each segment at the format's literal text:
    `$remote_addr - $remote_user [$time_local] ` `$request` ` $status $body_bytes_sent `
    `$http_referer` ` ` `$http_user_agent` and, optionally, more after a space (nginx's
    `main` adds a field).
    """
    earliest, latest = etl.event_time_window(run_start)
    return f"""
CREATE TABLE lines AS
WITH raw AS (
  -- source_file as Spark names a local file (`file:/abs/path`), so rows compare as equal.
  -- '\\r\\n' as the line break: a CRLF line is one line (its CR dropped), as the ETL reads it.
  SELECT 'file:' || filename AS source_file, coalesce(line, '') AS line
  FROM read_csv({json.dumps(files)}, columns={{'line': 'VARCHAR'}}, header=false,
                auto_detect=false, delim=E'\\x01', quote='', escape='', new_line='\\r\\n',
                strict_mode=false, compression='gzip', filename=true)
), split AS (
  SELECT *, string_split(CASE WHEN escaped
                              THEN replace(replace(line, '\\\\', chr(2)), '\\"', chr(1))
                              ELSE line END, '"') AS p
  FROM (SELECT *, contains(line, '\\') AS escaped FROM raw)
), sliced AS (
  SELECT *, p[1] AS s0, p[3] AS s2,
    strpos(s0, ' - ') AS dash_at,                  -- the address ends here
    substr(s0, dash_at + 3) AS rest,               -- $remote_user [$time_local]
    strpos(rest, ' [') AS bracket_at,              -- the user ends here
    length(rest) - bracket_at - 3 AS time_len,     -- the time runs to the closing '] '
    strpos(substr(s2, 2), ' ') AS status_len_1,    -- ' $status $body_bytes_sent '
    length(s2) - status_len_1 - 2 AS bytes_len
  FROM split
), fields AS (
  SELECT source_file, line, escaped, len(p) AS parts,
    len(p) >= 7 AND p[5] = ' ' AND (p[7] = '' OR starts_with(p[7], ' '))
      AND dash_at > 0 AND bracket_at > 0 AND ends_with(s0, '] ') AND time_len >= 0
      AND starts_with(s2, ' ') AND status_len_1 > 0 AND ends_with(s2, ' ') AND bytes_len >= 0
      AS shape_ok,
    left(s0, dash_at - 1) AS client_ip,
    left(rest, bracket_at - 1) AS user_,
    substr(rest, bracket_at + 2, time_len) AS time_,
    p[2] AS request_,
    substr(s2, 2, status_len_1 - 1) AS status_,
    substr(s2, status_len_1 + 2, bytes_len) AS bytes_,
    p[4] AS referrer_, p[6] AS ua_
  FROM sliced
), typed AS (
  SELECT *,
    coalesce(regexp_full_match(client_ip, '[0-9A-Fa-f:.]+'), false) AS anchor_ok,
    -- Spark's `Z` takes offsets up to ±18:00; DuckDB's %z would take +2500.
    CASE WHEN substr(time_, -4, 2) <= '18'
         THEN try_strptime(time_, '%d/%b/%Y:%H:%M:%S %z') END AS event_time,
    regexp_full_match(status_, '[1-5][0-9][0-9]')
      AND (bytes_ = '-' OR regexp_full_match(bytes_, '[0-9]{{1,18}}')) AS fields_ok
  FROM fields
), judged AS (
  SELECT *, CASE
    WHEN line = '' THEN '{Reason.EMPTY}'
    WHEN strlen(line) > {etl.max_line_bytes} THEN '{Reason.TOO_LONG}'
    WHEN NOT shape_ok AND parts < 7 AND NOT ends_with(line, '"')
         AND regexp_matches(line, {_sql_literal(_LOG_START)}) THEN '{Reason.TRUNCATED}'
    WHEN NOT shape_ok OR NOT anchor_ok THEN '{Reason.MALFORMED}'
    WHEN event_time IS NULL THEN '{Reason.BAD_TIMESTAMP}'
    WHEN NOT fields_ok THEN '{Reason.MALFORMED}'
    WHEN event_time < TIMESTAMPTZ '{earliest.isoformat()}'
      OR event_time > TIMESTAMPTZ '{latest.isoformat()}' THEN '{Reason.OUT_OF_RANGE}'
  END AS reason
  FROM typed
), request AS (
  -- method: the first word; protocol: the last; the path between them (spark/parse.py).
  SELECT *, {_unescaped("request_")} AS request,
    split_part(request, ' ', 1) AS method_,
    split_part(request, ' ', -1) AS protocol_,
    length(request) - length(method_) - length(protocol_) - 2 AS path_len,
    starts_with(protocol_, 'HTTP/') AND path_len >= 1 AS is_http
  FROM judged
)
SELECT
  source_file, reason,
  CASE WHEN reason IS NOT NULL THEN left(line, {etl.rejected_line_keep_chars}) END AS raw_line,
  event_time, client_ip,
  nullif({_unescaped("user_")}, '-') AS remote_user,
  CASE WHEN is_http THEN method_ END AS method,
  CASE WHEN is_http THEN substr(request, length(method_) + 2, path_len) END AS path,
  CASE WHEN is_http THEN protocol_ END AS protocol,
  TRY_CAST(status_ AS INTEGER) AS status,
  CASE WHEN bytes_ = '-' THEN 0 ELSE TRY_CAST(bytes_ AS BIGINT) END AS body_bytes,
  nullif({_unescaped("referrer_")}, '-') AS referrer,
  nullif({_unescaped("ua_")}, '-') AS user_agent
FROM request;
-- The table keeps the reader's order (files in the given order, lines in file order), so
-- a row's number minus its file's first row number is its line number.
CREATE VIEW numbered AS
WITH first_rows AS (SELECT source_file, min(rowid) AS first_row FROM lines GROUP BY ALL)
SELECT l.*, l.rowid - first_row + 1 AS source_line
FROM lines AS l JOIN first_rows USING (source_file);
"""


_DEVICES_SCHEMA = pa.schema(
    [
        ("user_agent", pa.string()),
        ("device_type", pa.string()),
        ("device", pa.string()),
        ("os", pa.string()),
        ("browser", pa.string()),
    ]
)


def _device_table(user_agents: list[str]) -> pa.Table:
    """Each distinct User-Agent classified once, by the ETL's classifier."""
    devices = [classify(ua) for ua in user_agents]
    return pa.table(
        [
            user_agents,
            [d.device_type for d in devices],
            [d.device for d in devices],
            [d.os for d in devices],
            [d.browser for d in devices],
        ],
        schema=_DEVICES_SCHEMA,
    )


_JOIN_SQL = f"""
CREATE TABLE access_logs AS
SELECT event_time, client_ip, remote_user, method, path, protocol, status, body_bytes,
       referrer, l.user_agent,
       coalesce(d.device_type, '{UNKNOWN.device_type}') AS device_type,
       coalesce(d.device, '{UNKNOWN.device}') AS device, d.os, d.browser,
       source_file, source_line, $ingested_at::TIMESTAMPTZ AS ingested_at
FROM numbered AS l LEFT JOIN devices AS d ON l.user_agent = d.user_agent
WHERE reason IS NULL;
"""

_HUMAN = ", ".join(_sql_literal(t) for t in HUMAN_DEVICE_TYPES)


def _top_ips(counts: str, period: str, n: int) -> str:
    """Top-n IPs per (period, segment); ties: requests, bytes desc, then the address."""
    return f"""
SELECT {period}, segment,
       CAST(row_number() OVER (PARTITION BY {period}, segment
                               ORDER BY requests DESC, bytes DESC, client_ip) AS INTEGER) AS rank,
       client_ip, requests, bytes
FROM (
  SELECT {period}, CASE WHEN is_bot THEN 'bot' ELSE 'human' END AS segment, client_ip,
         requests, bytes
  FROM {counts}
  UNION ALL
  SELECT {period}, 'all', client_ip, CAST(sum(requests) AS BIGINT), CAST(sum(bytes) AS BIGINT)
  FROM {counts} GROUP BY {period}, client_ip
)
QUALIFY rank <= {n}"""


def _top_devices(counts: str, period: str, n: int) -> str:
    """Top-n devices per period with their share of the period's requests."""
    return f"""
SELECT {period},
       CAST(row_number() OVER (PARTITION BY {period} ORDER BY requests DESC, bytes DESC,
                               device_type, device) AS INTEGER) AS rank,
       device_type, device, requests,
       requests / sum(requests) OVER (PARTITION BY {period}) AS share
FROM {counts}
QUALIFY rank <= {n}"""


def _by_week(counts: str, keys: str) -> str:
    # DuckDB's week starts on Monday: the ISO week, as the ETL's.
    return f"""(
  SELECT CAST(date_trunc('week', day) AS DATE) AS week_start, {keys},
         CAST(sum(requests) AS BIGINT) AS requests, CAST(sum(bytes) AS BIGINT) AS bytes
  FROM {counts} GROUP BY ALL)"""


def _reports_sql(n: int) -> dict[str, str]:
    return {
        Table.DAILY_TOP_IPS: _top_ips("daily_ip_counts", "day", n),
        Table.WEEKLY_TOP_IPS: _top_ips(
            _by_week("daily_ip_counts", "client_ip, is_bot"), "week_start", n
        ),
        Table.DAILY_TOP_DEVICES: _top_devices("daily_device_counts", "day", n),
        Table.WEEKLY_TOP_DEVICES: _top_devices(
            _by_week("daily_device_counts", "device_type, device"), "week_start", n
        ),
    }


_AGGREGATES_SQL = f"""
CREATE TABLE daily_ip_counts AS
SELECT CAST(event_time AS DATE) AS day, client_ip, device_type NOT IN ({_HUMAN}) AS is_bot,
       count(*) AS requests, CAST(sum(body_bytes) AS BIGINT) AS bytes
FROM access_logs GROUP BY ALL;
CREATE TABLE daily_device_counts AS
SELECT CAST(event_time AS DATE) AS day, device_type, device,
       count(*) AS requests, CAST(sum(body_bytes) AS BIGINT) AS bytes
FROM access_logs GROUP BY ALL;
"""

_ZSTD = "FORMAT parquet, COMPRESSION zstd"


def honest_peer(files: list[str], out: Path, etl: EtlSettings | None = None) -> PeerResult:
    """Do the ETL's work on `files` with DuckDB; tables as Parquet under `out/<table>`."""
    etl = etl or EtlSettings()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = PeerResult()
    run_start = datetime.now(UTC)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute(f"SET threads={CORES}")
        con.execute("SET enable_progress_bar=false")  # the harness prints its own table
        clock = time.perf_counter()

        def lap(part: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            result.seconds[part] = now - clock
            clock = now

        con.execute(_parse_sql(files, etl, run_start))
        lap(PARSE)

        agents = con.execute(
            "SELECT DISTINCT user_agent FROM numbered "
            "WHERE reason IS NULL AND user_agent IS NOT NULL"
        ).fetchall()
        devices = _device_table([row[0] for row in agents])
        con.register("devices", devices)
        con.execute(_JOIN_SQL, {"ingested_at": run_start})
        result.user_agents = len(agents)
        lap(CLASSIFY)

        con.execute(
            "COPY (SELECT *, CAST(event_time AS DATE) AS day FROM access_logs) TO "
            f"{_sql_literal(str(out / Table.ACCESS_LOGS))} ({_ZSTD}, PARTITION_BY (day))"
        )
        con.execute(
            "COPY (SELECT source_file, source_line, raw_line, reason, "
            "$ingested_at::TIMESTAMPTZ AS ingested_at FROM numbered WHERE reason IS NOT NULL) "
            f"TO {_sql_literal(str(out / (Table.REJECTED_LINES + '.parquet')))} ({_ZSTD})",
            {"ingested_at": run_start},
        )
        lap(WRITE)

        con.execute(_AGGREGATES_SQL)
        for name, sql in _reports_sql(etl.top_n).items():
            con.execute(f"COPY ({sql}) TO {_sql_literal(str(out / (name + '.parquet')))} ({_ZSTD})")
        lap(REPORTS)

        counts = con.execute(
            "SELECT count(*) FILTER (reason IS NULL), count(*) FILTER (reason IS NOT NULL) "
            "FROM numbered"
        ).fetchone()
        assert counts is not None
        result.accepted, result.rejected = counts
    finally:
        con.close()
    return result


def report_rows(out: Path, name: str) -> list[dict[str, object]]:
    """A report the peer wrote, as rows (for checks against the ETL's)."""
    path = out / (name + ".parquet")
    with duckdb.connect() as con:
        con.execute("SET TimeZone='UTC'")
        return (
            con.sql(f"SELECT * FROM read_parquet({_sql_literal(str(path))})")
            .to_arrow_table()
            .to_pylist()
        )
