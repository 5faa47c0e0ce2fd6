"""Bad input: hostile lines and files in one input prefix, run through the embedded ETL.

Every bad line must end up in `rejected_lines` with the reason written next to it here; per
file, lines read = accepted + rejected in the ledger; a file that cannot be read (a corrupt
gzip) is reported in the run result, kept out of the ledger, tried again by the next run,
and ingested once a good copy replaces it. Tables are read back with PyIceberg, and all
that is readable is also compared with the independent plain-Python computation.

`BAD_INPUTS` lists every hostile input tried, lines and files (the good lines placed among
them as controls are not counted).
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import runtimes
from generator import TrafficSpec, generate
from spark import tables
from spark.inputs import InputFile, read_raw
from spark.job import run_etl, stage_batch
from tests.pipeline import reference
from tests.pipeline.checks import assert_tables_match_input, input_dir, table_rows

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TOP_N = 5
GENERATED_LINES = 2_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(time_local: str, path: str = "/", ip: str = "203.0.113.7") -> bytes:
    """A well-formed line, but for what `time_local` puts between the brackets."""
    return f'{ip} - - [{time_local}] "GET {path} HTTP/1.1" 200 512 "-" "curl/8.5.0"'.encode()


def time_local(moment: datetime) -> str:
    # The month by hand, not strftime("%b"): it must not depend on the machine's locale.
    return f"{moment:%d}/{MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def exactly(size: int) -> bytes:
    """A good line padded, in its path, to `size` bytes."""
    stamp = "08/Oct/2024:00:20:00 +0000"
    return at(stamp, "/" + "a" * (size - len(at(stamp))))


GOOD = at("08/Oct/2024:00:10:00 +0000")
HUGE_PATH = "/" + "a" * 1_500_000


@dataclass(frozen=True)
class Line:
    what: str
    # The bytes as they stand in the file, or a timedelta: a good line dated that far from now.
    content: bytes | timedelta
    reason: str | None  # None: accepted into access_logs
    control: bool = False  # a good line among the hostile ones, not counted as bad input

    def encoded(self, now: datetime) -> bytes:
        if isinstance(self.content, timedelta):
            return at(time_local(now + self.content))
        return self.content


HOSTILE = "nginx/dt=2024-10-08/hour=00/hostile.log.gz"
HUGE = "nginx/dt=2024-10-08/hour=00/huge-lines.log.gz"
UTF16 = "nginx/dt=2024-10-08/hour=00/utf16.log"
PNG = "nginx/pixel.png"

# Files whose lines reach the parser: path under the input prefix -> every line, in order.
LINE_FILES: dict[str, list[Line]] = {
    HOSTILE: [
        Line("control: a good line", GOOD, None, control=True),
        # Wrong date formats.
        Line("ISO 8601 time ($time_iso8601)", at("2024-10-08T00:10:00+00:00"), "bad_timestamp"),
        Line("numeric month", at("08/10/2024:00:10:00 +0000"), "bad_timestamp"),
        Line("two-digit year", at("08/Oct/24:00:10:00 +0000"), "bad_timestamp"),
        Line("space between date and time", at("08/Oct/2024 00:10:00 +0000"), "bad_timestamp"),
        Line("Apache error-log time", at("Tue Oct 08 00:10:00 2024"), "bad_timestamp"),
        Line("epoch seconds", at("1728346200"), "bad_timestamp"),
        Line("milliseconds", at("08/Oct/2024:00:10:00.123 +0000"), "bad_timestamp"),
        Line("hour 24", at("08/Oct/2024:24:00:00 +0000"), "bad_timestamp"),
        Line("30 February", at("30/Feb/2024:00:10:00 +0000"), "bad_timestamp"),
        Line("empty brackets", at(""), "bad_timestamp"),
        # Bad offsets.
        Line("offset +2500", at("08/Oct/2024:00:10:00 +2500"), "bad_timestamp"),
        Line("offset missing", at("08/Oct/2024:00:10:00"), "bad_timestamp"),
        Line("offset with a colon", at("08/Oct/2024:00:10:00 +05:30"), "bad_timestamp"),
        Line("zone name for an offset", at("08/Oct/2024:00:10:00 UTC"), "bad_timestamp"),
        Line("offset beyond 18 hours", at("08/Oct/2024:00:10:00 -1900"), "bad_timestamp"),
        Line("offset with 60 minutes", at("08/Oct/2024:00:10:00 +0060"), "bad_timestamp"),
        Line("control: +1400 (Kiribati)", at("08/Oct/2024:12:00:00 +1400"), None, control=True),
        # Far future: more than etl.max_future_skew (default one day) after the run's start.
        Line("year 9999", at("01/Jan/9999:00:00:00 +0000"), "out_of_range"),
        Line("year 10000 once in UTC", at("31/Dec/9999:23:59:59 -1400"), "out_of_range"),
        Line("two days ahead of now", timedelta(days=2), "out_of_range"),
        Line("control: an hour ahead (clock skew)", timedelta(hours=1), None, control=True),
        # Very old: before etl.min_event_time (default 2000-01-01T00:00:00Z).
        Line("the epoch (a clock reset)", at("01/Jan/1970:00:00:00 +0000"), "out_of_range"),
        Line("year 0", at("01/Jan/0000:00:00:00 +0000"), "out_of_range"),
        Line("a second before 2000", at("31/Dec/1999:23:59:59 +0000"), "out_of_range"),
        Line("2000 locally, 1999 in UTC", at("01/Jan/2000:00:30:00 +0100"), "out_of_range"),
        Line("control: 1999 locally, 2000 UTC", at("31/Dec/1999:23:30:00 -0100"), None, True),
        # Not UTF-8.
        Line("Latin-1 byte in the path", GOOD.replace(b"/ ", b"/caf\xe9 "), "invalid_utf8"),
        Line("overlong encoding of '/'", GOOD.replace(b"/ ", b"/\xc0\xaf "), "invalid_utf8"),
        Line("UTF-8-encoded surrogate", GOOD.replace(b"/ ", b"/\xed\xa0\x80 "), "invalid_utf8"),
        Line("cp1252 quotes in the agent", GOOD.replace(b"curl", b"\x93x\x94"), "invalid_utf8"),
        Line("multi-byte character cut at the end", GOOD + b"\xe2\x82", "invalid_utf8"),
        Line("control: UTF-8 in the path", GOOD.replace(b"/ ", "/café ".encode()), None, True),
        # NUL bytes: what a file system can leave after a power loss in the middle of a write.
        Line("a NUL-filled block", b"\x00" * 4096, "malformed"),
        Line("NUL bytes, then a line", b"\x00" * 16 + GOOD, "malformed"),
        Line("byte-order mark before the line", b"\xef\xbb\xbf" + GOOD, "malformed"),
        # The file is joined with LF: a trailing CR makes a CRLF ending.
        Line("CRLF line ending", GOOD + b"\r", None),
        Line("blank CRLF line", b"\r", "empty"),
        # The last line, with no newline after it: the writer stopped in the middle.
        Line("cut off at the end of the file", GOOD[:60], "truncated"),
    ],
    HUGE: [
        Line("1.5 MB request path", at("08/Oct/2024:00:20:00 +0000", HUGE_PATH), "too_long"),
        Line("2 MB of one letter", b"A" * 2_000_000, "too_long"),
        Line("control: a good line right after them", GOOD, None, control=True),
        Line("control: exactly etl.max_line_bytes", exactly(65_536), None, control=True),
        Line("one byte over etl.max_line_bytes", exactly(65_537), "too_long"),
        Line("1.2 MB, not UTF-8 (that is checked first)", b"\xff" * 1_200_000, "invalid_utf8"),
    ],
    "nginx/dt=2024-10-08/hour=00/windows-crlf.log": [
        Line("CRLF line endings throughout", GOOD + b"\r", None),
        Line("control: second line", at("08/Oct/2024:00:11:00 +0000") + b"\r", None, True),
        Line("blank CRLF line in a CRLF file", b"\r", "empty"),
        Line("control: after the blank", at("08/Oct/2024:00:12:00 +0000") + b"\r", None, True),
    ],
    # A log re-saved as UTF-16 by an editor: a BOM, two bytes per character, CR 00 LF 00.
    # The reader ends a line at the CR and at the LF, so one logged line makes three.
    UTF16: [
        Line("UTF-16 text", b"\xff\xfe" + GOOD.decode().encode("utf-16-le"), "invalid_utf8"),
        Line("UTF-16: NUL between CR and LF", b"\x00", "malformed"),
        Line("UTF-16: NUL after the last LF", b"\x00", "malformed"),
    ],
    # Not logs at all, in the input prefix: every line rejected, none lost.
    "README.txt": [
        Line("prose", b"Access logs of www.example.com, copied nightly.", "malformed"),
        Line("blank line", b"", "empty"),
        Line("a log line after a label", b"Example: " + GOOD, "malformed"),
    ],
    # The 67-byte 1x1 PNG, split where its bytes happen to be CR or LF.
    PNG: [
        Line("PNG: signature", b"\x89PNG", "invalid_utf8"),
        Line("PNG: SUB byte", b"\x1a", "malformed"),
        Line("PNG: IHDR length", b"\x00\x00\x00", "malformed"),
        Line(
            "PNG: IHDR (valid UTF-8 by chance)",
            bytes.fromhex("49484452000000010000000108060000001f15c489000000"),
            "malformed",
        ),
        Line("PNG: IDAT", bytes.fromhex("49444154789c6300010000050001"), "invalid_utf8"),
        Line("PNG: IEND", bytes.fromhex("2db40000000049454e44ae426082"), "invalid_utf8"),
    ],
}
# Files written as these exact bytes (their lines above are how a reader splits them).
VERBATIM = {
    UTF16: b"\xff\xfe" + (GOOD.decode() + "\r\n").encode("utf-16-le"),
    PNG: bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    ),
}

# No line at all: ingested, 0 lines read.
EMPTY_FILES = {
    "nginx/dt=2024-10-08/hour=02/empty.log": b"",
    "nginx/dt=2024-10-08/hour=02/empty.log.gz": b"",  # not even a gzip header
    "nginx/dt=2024-10-08/hour=02/empty-stream.log.gz": gzip.compress(b""),
}

TRUNCATED = "nginx/dt=2024-10-08/hour=01/truncated.log.gz"
GARBAGE = "nginx/dt=2024-10-08/hour=01/garbage.log.gz"
BIT_FLIP = "nginx/dt=2024-10-08/hour=01/bit-flip.log.gz"
# Unreadable files -> how the run reports them (the words of Hadoop's gzip reader).
CORRUPT_FILES = {
    TRUNCATED: "java.io.EOFException: Unexpected end of input stream",
    GARBAGE: "java.io.IOException: not a gzip file",
    BIT_FLIP: "java.io.IOException: gzip stream CRC failure",
}
WHOLE_LINES = 300  # in the truncated and the bit-flipped file, when whole


def whole_gzip(level: int = 9) -> bytes:
    lines = [
        at(
            f"08/Oct/2024:01:{n // 60:02d}:{n % 60:02d} +0000",
            f"/item/{n}",
            f"198.51.100.{n % 200}",
        )
        for n in range(WHOLE_LINES)
    ]
    return gzip.compress(b"\n".join(lines) + b"\n", compresslevel=level, mtime=0)


BAD_INPUTS = [
    *(
        f"{name}: {line.what}"
        for name, lines in LINE_FILES.items()
        for line in lines
        if not line.control
    ),
    *(f"{name}: empty" for name in EMPTY_FILES),
    *(f"{name}: unreadable" for name in CORRUPT_FILES),
]


def write_input(raw: Path, now: datetime) -> set[str]:
    """Generated logs plus every hostile file under `raw`; returns the generated files' URIs."""
    generate(TrafficSpec(start=date(2024, 10, 7), days=1, lines=GENERATED_LINES, seed=17), str(raw))
    generated = {f"file:{p}" for p in raw.rglob("*") if p.is_file()}
    files: dict[str, bytes] = {**VERBATIM, **EMPTY_FILES}
    for name, lines in LINE_FILES.items():
        if name not in VERBATIM:
            text = b"\n".join(line.encoded(now) for line in lines)
            text += b"" if name == HOSTILE else b"\n"  # HOSTILE ends in a cut-off line
            files[name] = gzip.compress(text) if name.endswith(".gz") else text
    whole = whole_gzip()
    files[TRUNCATED] = whole[: len(whole) // 2]
    # Level 0 stores the text as is: the flipped byte still inflates, only the CRC tells.
    stored = whole_gzip(level=0)
    middle = len(stored) // 2
    files[BIT_FLIP] = stored[:middle] + bytes([stored[middle] ^ 0xFF]) + stored[middle + 1 :]
    files[GARBAGE] = random.Random(7).randbytes(4096)
    assert not files[GARBAGE].startswith(b"\x1f\x8b")  # really not gzip
    for name, data in files.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(data)
    # The hand-written split of the verbatim files, checked with the reference's reader.
    for name in VERBATIM:
        assert reference.read_lines(raw / name) == [line.content for line in LINE_FILES[name]]
    return generated


@pytest.fixture
def settings(warehouse: Any) -> Any:
    return warehouse.model_copy(update={"etl": warehouse.etl.model_copy(update={"top_n": TOP_N})})


def _ledger(settings: Any) -> dict[str, dict[str, Any]]:
    return {r["source_file"]: r for r in table_rows(settings, tables.INGESTED_FILES)}


def test_bad_input_is_rejected_with_reasons_and_unreadable_files_are_retried(
    spark: Any, settings: Any
) -> None:
    raw = input_dir(settings)
    now = datetime.now(UTC)
    generated = write_input(raw, now)

    def uri(name: str) -> str:
        return f"file:{raw / name}"

    corrupt = {uri(name) for name in CORRUPT_FILES}

    first = run_etl(settings, spark=spark)

    # Unreadable files: reported with their cause, left out of the ledger; the others go on.
    assert first.outcome == "partial"
    assert set(first.skipped_files) == corrupt
    for name, cause in CORRUPT_FILES.items():
        assert first.skipped_files[uri(name)].startswith(cause), first.skipped_files
    ledger = _ledger(settings)
    assert not corrupt & set(ledger)
    assert first.lines_read == sum(e["lines_read"] for e in ledger.values())
    assert first.lines_read == first.accepted + first.rejected

    # Every line of the hostile files is accepted, or rejected with its reason.
    logs = table_rows(settings, tables.ACCESS_LOGS)
    rejected = table_rows(settings, tables.REJECTED_LINES)
    for name, lines in LINE_FILES.items():
        outcome = {r["source_line"]: r["reason"] for r in rejected if r["source_file"] == uri(name)}
        accepted = [r["source_line"] for r in logs if r["source_file"] == uri(name)]
        assert not set(accepted) & set(outcome), name
        outcome |= dict.fromkeys(accepted)
        assert [(line.what, outcome.get(n, "MISSING")) for n, line in enumerate(lines, 1)] == [
            (line.what, line.reason) for line in lines
        ], name
        bad = sum(line.reason is not None for line in lines)
        entry = ledger[uri(name)]
        assert (entry["lines_read"], entry["accepted"], entry["rejected"]) == (
            len(lines),
            len(lines) - bad,
            bad,
        ), name

    # Per file, lines read = accepted + rejected, and the tables hold exactly those rows.
    for source, entry in ledger.items():
        assert entry["lines_read"] == entry["accepted"] + entry["rejected"], source
        assert sum(r["source_file"] == source for r in logs) == entry["accepted"], source
        assert sum(r["source_file"] == source for r in rejected) == entry["rejected"], source
    for name in EMPTY_FILES:
        entry = ledger[uri(name)]
        assert (entry["lines_read"], entry["accepted"], entry["rejected"]) == (0, 0, 0), name
    assert {f: ledger[f]["rejected"] for f in generated} == dict.fromkeys(generated, 0)
    assert sum(ledger[f]["accepted"] for f in generated) == GENERATED_LINES

    # What rejected_lines keeps: the first 4096 characters, invalid bytes made visible.
    number = {line.what: n for n, line in enumerate(LINE_FILES[HOSTILE], 1)}
    kept = {(r["source_file"], r["source_line"]): r["raw_line"] for r in rejected}
    huge = at("08/Oct/2024:00:20:00 +0000", HUGE_PATH).decode()
    assert kept[(uri(HUGE), 1)] == huge[:4096]
    latin1 = kept[(uri(HOSTILE), number["Latin-1 byte in the path"])]
    assert latin1 == GOOD.decode().replace("/ ", "/caf\ufffd ")
    # Event times are UTC, from the line's own offset.
    when = {r["source_line"]: r["event_time"] for r in logs if r["source_file"] == uri(HOSTILE)}
    assert when[number["control: +1400 (Kiribati)"]] == datetime(2024, 10, 7, 22, tzinfo=UTC)
    assert when[number["control: 1999 locally, 2000 UTC"]] == datetime(
        2000, 1, 1, 0, 30, tzinfo=UTC
    )

    # And all that was read equals the independent computation, reports included.
    assert_tables_match_input(settings, TOP_N, unreadable=corrupt)

    # The next run tries the unreadable files again (nothing else is pending), skips them again.
    counts = {t: len(table_rows(settings, t)) for t in (tables.ACCESS_LOGS, tables.REJECTED_LINES)}
    second = run_etl(settings, spark=spark)
    assert (second.outcome, sorted(second.files), set(second.skipped_files)) == (
        "partial",
        sorted(corrupt),
        corrupt,
    )
    assert {t: len(table_rows(settings, t)) for t in counts} == counts
    assert _ledger(settings) == ledger

    # A good copy replaces the truncated file: the run after that ingests it.
    (raw / TRUNCATED).write_bytes(whole_gzip())
    third = run_etl(settings, spark=spark)
    assert (third.outcome, set(third.skipped_files)) == ("partial", {uri(GARBAGE), uri(BIT_FLIP)})
    entry = _ledger(settings)[uri(TRUNCATED)]
    assert (entry["lines_read"], entry["accepted"], entry["rejected"]) == (300, 300, 0)
    assert_tables_match_input(settings, TOP_N, unreadable={uri(GARBAGE), uri(BIT_FLIP)})

    # The run history shows each run as partial, naming what it skipped.
    runs = sorted(table_rows(settings, tables.ETL_RUNS), key=lambda r: r["started_at"])
    assert [r["outcome"] for r in runs] == ["partial", "partial", "partial"]
    assert [uri(TRUNCATED) in r["error"] for r in runs] == [True, True, False]
    assert all(uri(GARBAGE) in r["error"] and uri(BIT_FLIP) in r["error"] for r in runs)


def test_a_run_applies_its_configured_event_time_window(spark: Any, tmp_path: Path) -> None:
    base = runtimes.embedded(tmp_path)
    etl = base.etl.model_copy(update={"min_event_time": datetime(2024, 10, 8, tzinfo=UTC)})
    settings = base.model_copy(update={"etl": etl})
    path = tmp_path / "window.log"
    path.write_bytes(
        at("07/Oct/2024:23:59:59 +0000")  # before min_event_time
        + b"\n"
        + at("09/Oct/2024:12:00:01 +0000")  # more than a day after the run's start
        + b"\n"
        + at("09/Oct/2024:12:00:00 +0000")
        + b"\n"
    )
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    staged = stage_batch(raw, settings, datetime(2024, 10, 8, 12, 0, tzinfo=UTC))
    reasons = [r.reason for r in staged.orderBy("source_line").collect()]
    assert reasons == ["out_of_range", "out_of_range", None]
