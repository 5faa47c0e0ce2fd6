"""The policies through the real ETL and `maintain` on the embedded runtime: no full
address, user name or redacted query value of the input survives anywhere in the warehouse
(tests/privacy/scan.py), the hash key appears nowhere, and retention removes rows and then
their data files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.expressions import LessThan

from core.names import CLIENT_IP_POLICY_PROPERTY, Table
from core.settings import (
    IP_HASH_KEY_ENV,
    ClientIpPolicy,
    EtlSettings,
    RetentionSettings,
    Settings,
)
from readers.reading import catalog, read_table
from report_page import write_report_page
from spark.job import run_etl
from spark.maintenance import apply_retention, maintain
from spark.privacy import REDACTED, hmac_pads
from tests.pipeline.checks import input_dir
from tests.privacy.inputs import (
    KEY,
    MAPPED_V4,
    NEW,
    NEW_SECRETS,
    PARAMS,
    SECRETS,
    TODAY,
    TRUNCATED_CLIENT_IPS,
    USER,
    V4,
    V6,
    lines,
    mac,
    new_lines,
)
from tests.privacy.scan import findings, manifest_bounds

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def with_privacy(settings: Settings, policy: str, **retention: int) -> Settings:
    etl = EtlSettings(client_ip=ClientIpPolicy(policy), redact_query_params=PARAMS)
    return settings.model_copy(update={"etl": etl, "retention": RetentionSettings(**retention)})


def roots(settings: Settings) -> list[Path]:
    """The warehouse, the catalog and the processed location (not the raw input)."""
    storage = settings.storage
    return [
        Path(storage.warehouse_uri.removeprefix("file://")),
        Path(storage.processed_uri.removeprefix("file://")),
        Path(settings.catalog.uri),
    ]


def write_input(settings: Settings, name: str, text_lines: list[str]) -> None:
    folder = input_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(text_lines) + "\n")


def column(settings: Settings, table: str, name: str) -> list[Any]:
    return read_table(settings, table).column(name).to_pylist()


def test_truncate_leaves_no_full_address_in_the_warehouse(
    spark: Any, warehouse: Settings, tmp_path: Path
) -> None:
    write_input(warehouse, "a.log", lines())
    run_etl(warehouse, spark=spark)  # policy keep: full addresses everywhere
    control = findings(warehouse, roots(warehouse), [V4])
    # The scan finds what is there: decoded columns and manifest bounds alike.
    assert any("(column values)" in f for f in control), control
    assert any("manifest bounds" in f for f in control), control

    # Switch to truncate: old rows are rewritten, new rows are truncated at parse time.
    truncate = with_privacy(warehouse, "truncate")
    result = maintain(
        spark,
        truncate,
        rewrite_ips=True,
        snapshot_age=timedelta(0),
        orphan_grace=timedelta(0),
        compact=False,
    )
    assert result.rewritten_rows[Table.ACCESS_LOGS] == 4
    assert result.rewritten_rows[Table.REJECTED_LINES] == 2
    write_input(
        truncate,
        "b.log",
        new_lines(),
    )
    run_etl(truncate, spark=spark)

    assert findings(truncate, roots(truncate), [*SECRETS, *NEW_SECRETS]) == []
    assert sorted(column(truncate, Table.ACCESS_LOGS, "client_ip")) == TRUNCATED_CLIENT_IPS
    assert sorted(u or "-" for u in column(truncate, Table.ACCESS_LOGS, "remote_user")) == [
        "-", "-", REDACTED, REDACTED, REDACTED,  # alice twice, then carol (b.log)
    ]  # fmt: skip
    assert f"/login?token={REDACTED}&x=1" in column(truncate, Table.ACCESS_LOGS, "path")
    assert sorted(
        line.split(" [")[0] for line in column(truncate, Table.REJECTED_LINES, "raw_line")
    ) == [
        "203.0.113.0 - -",
        f"fe80:: - {REDACTED}",
    ]
    assert set(column(truncate, Table.DAILY_TOP_IPS, "client_ip")) == {
        "192.0.2.0", "198.51.100.0", "2001:db8:85a3::", "203.0.113.0",
    }  # fmt: skip
    label = "truncate (IPv4 /24, IPv6 /48); query parameters redacted: token, email"
    access_logs = catalog(truncate).load_table(f"{truncate.catalog.namespace}.access_logs")
    assert access_logs.properties[CLIENT_IP_POLICY_PROPERTY] == label
    page = write_report_page(truncate, tmp_path / "report.html").read_text()
    assert f"client IPs: {label}" in page


def test_hash_key_appears_nowhere_and_retention_removes_rows_then_files(
    spark: Any,
    warehouse: Settings,
    spark_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(IP_HASH_KEY_ENV, KEY)
    settings = with_privacy(warehouse, "hash", access_logs_days=30, reports_days=30)
    write_input(settings, "a.log", lines())
    run_etl(settings, spark=spark)

    assert sorted(column(settings, Table.ACCESS_LOGS, "client_ip")) == sorted(
        [mac(V4), mac(MAPPED_V4), mac(V6), mac(V6)]
    )
    assert sorted(
        line.split(" [")[0] for line in column(settings, Table.REJECTED_LINES, "raw_line")
    ) == sorted([f"{mac(V4)} - -", f"{mac('fe80::1')} - {mac(USER)}"])
    ipad, opad = hmac_pads(KEY.encode())
    key_forms = [KEY, KEY.encode().hex(), ipad.hex(), opad.hex()]
    assert findings(settings, roots(settings), [*SECRETS, *key_forms]) == []
    # Not in Spark's event logs (plans), the process output or the page either.
    assert findings(settings, [spark_root], key_forms) == []
    page = write_report_page(settings, tmp_path / "report.html").read_text()
    assert "client IPs: hash (HMAC-SHA256)" in page
    out, err = capfd.readouterr()
    assert not any(k in text for k in key_forms for text in (page, out, err))

    # Retention: the old day's rows go, then (snapshot age 0) its data files.
    access_logs = catalog(settings).load_table(f"{settings.catalog.namespace}.access_logs")
    cutoff = datetime.combine(TODAY - timedelta(days=30), datetime.min.time(), UTC)
    old_files = [
        Path(task.file.file_path.removeprefix("file:"))
        for task in access_logs.scan(
            row_filter=LessThan("event_time", cutoff.isoformat())
        ).plan_files()
    ]
    assert old_files and all(path.exists() for path in old_files)
    result = maintain(
        spark, settings, snapshot_age=timedelta(0), orphan_grace=timedelta(0), compact=False
    )
    assert result.expired_rows[Table.ACCESS_LOGS] == 2
    assert {t.date() for t in column(settings, Table.ACCESS_LOGS, "event_time")} == {NEW}
    assert not any(path.exists() for path in old_files)
    assert set(column(settings, Table.DAILY_TOP_IPS, "day")) == {NEW}
    week = NEW - timedelta(days=NEW.weekday())
    assert set(column(settings, Table.WEEKLY_TOP_IPS, "week_start")) == {week}
    # No manifest is left that no snapshot reaches (expiry removed the old ones).
    _, reached = manifest_bounds(settings)
    metadata = Path(access_logs.metadata_location.removeprefix("file:")).parent
    on_disk = {p for p in metadata.glob("*.avro") if not p.name.startswith("snap-")}
    assert on_disk == {Path(m.removeprefix("file:")) for m in reached if str(metadata) in m}

    # Rejected lines go by ingestion time: two days on, a one-day retention deletes them.
    short = settings.model_copy(update={"retention": RetentionSettings(rejected_lines_days=1)})
    deleted = apply_retention(spark, short, TODAY + timedelta(days=2))
    assert deleted == {Table.REJECTED_LINES: 2}
    assert column(short, Table.REJECTED_LINES, "raw_line") == []
