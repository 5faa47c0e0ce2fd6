"""The client-IP policies and retention on the local replica of production: `lakehouse etl`
and `lakehouse maintain` with a settings file, through the Hive Metastore and S3Proxy.

Each policy writes into a namespace of its own, from an input bucket of its own, so the
other stack tests' tables and reference counts never see these lines. What is stored is
checked on disk, under S3Proxy's bucket directories (every file's bytes, every Parquet
column decompressed) and in every manifest's column bounds (tests/privacy/scan.py), and
the hash key is looked for in the metastore's PostgreSQL cluster and Spark's event logs too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.expressions import LessThan

from core.names import CLIENT_IP_POLICY_PROPERTY, Table
from core.runtimes import local_stack
from core.settings import (
    IP_HASH_KEY_ENV,
    ClientIpPolicy,
    EtlSettings,
    RetentionSettings,
    Settings,
    render_settings_toml,
)
from readers.reading import catalog, read_table
from report_page import write_report_page
from spark.privacy import hmac_pads
from tests.privacy.inputs import (
    KEY,
    MAPPED_V4,
    NEW,
    NEW_SECRETS,
    PARAMS,
    SECRETS,
    TRUNCATED_CLIENT_IPS,
    V4,
    V6,
    lines,
    mac,
    new_lines,
)
from tests.privacy.scan import findings
from tests.stack.conftest import StackHandle

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# Maintenance that removes what it can at once: no snapshot or orphan grace, no compaction.
AT_ONCE = ["--snapshot-age-days", "0", "--orphan-grace-minutes", "0", "--no-compact"]


def settings_for(
    handle: StackHandle, name: str, policy: ClientIpPolicy, **retention: int
) -> Settings:
    """The stack's settings, reading bucket `privacy-<name>` into namespace `privacy_<name>`."""
    base = local_stack(handle.settings)
    return base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"input_uri": f"s3://privacy-{name}"}),
            "catalog": base.catalog.model_copy(update={"namespace": f"privacy_{name}"}),
            "etl": EtlSettings(client_ip=policy, redact_query_params=PARAMS),
            "retention": RetentionSettings(**retention),
        }
    )


def upload(handle: StackHandle, settings: Settings, name: str, text: list[str]) -> None:
    client = handle.stack.s3proxy.client()
    bucket = settings.storage.input_uri.removeprefix("s3://")
    client.create_dir(bucket)
    with client.open_output_stream(f"{bucket}/{name}") as out:
        out.write(("\n".join(text) + "\n").encode())


def lakehouse(
    settings: Settings, workdir: Path, *args: str, env: dict[str, str] | None = None
) -> str:
    """`lakehouse <args> --config <settings file>` in its own process; its whole output."""
    config = workdir / f"{settings.catalog.namespace}.toml"
    config.write_text(render_settings_toml(settings))
    proc = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *args, "-c", str(config)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO), SPARK_LOCAL_IP="127.0.0.1", **(env or {})),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout + proc.stderr


def stored(handle: StackHandle, settings: Settings) -> list[Path]:
    """Where the namespace's tables live on disk: its directory in the warehouse bucket."""
    blobs = handle.stack.s3proxy.blob_root
    return [
        blobs / handle.settings.warehouse_bucket / "warehouse" / f"{settings.catalog.namespace}.db"
    ]


def column(settings: Settings, table: str, name: str) -> list[Any]:
    return read_table(settings, table).column(name).to_pylist()


def test_truncate_on_the_stack_rewrites_old_rows_and_truncates_new_ones(
    stack_handle: StackHandle, tmp_path: Path
) -> None:
    keep = settings_for(stack_handle, "truncate", ClientIpPolicy.KEEP)
    upload(stack_handle, keep, "a.log", lines())
    lakehouse(keep, tmp_path, "etl")
    control = findings(keep, stored(stack_handle, keep), [V4])
    # The scan sees S3Proxy's files: full addresses are there under `keep`.
    assert any("(column values)" in f for f in control), control
    assert any("manifest bounds" in f for f in control), control

    truncate = keep.model_copy(
        update={"etl": keep.etl.model_copy(update={"client_ip": ClientIpPolicy.TRUNCATE})}
    )
    out = lakehouse(truncate, tmp_path, "maintain", "--rewrite-ips", *AT_ONCE)
    assert "rewrote 4 rows of access_logs under etl.client_ip" in out, out
    upload(stack_handle, truncate, "b.log", new_lines())
    lakehouse(truncate, tmp_path, "etl")

    assert findings(truncate, stored(stack_handle, truncate), [*SECRETS, *NEW_SECRETS]) == []
    assert sorted(column(truncate, Table.ACCESS_LOGS, "client_ip")) == TRUNCATED_CLIENT_IPS
    label = "truncate (IPv4 /24, IPv6 /48); query parameters redacted: token, email"
    table = catalog(truncate).load_table(f"{truncate.catalog.namespace}.{Table.ACCESS_LOGS}")
    assert table.properties[CLIENT_IP_POLICY_PROPERTY] == label
    page = write_report_page(truncate, tmp_path / "report.html").read_text()
    assert f"client IPs: {label}" in page


def test_hash_and_retention_on_the_stack(stack_handle: StackHandle, tmp_path: Path) -> None:
    settings = settings_for(
        stack_handle, "hash", ClientIpPolicy.HASH, access_logs_days=30, reports_days=30
    )
    upload(stack_handle, settings, "a.log", lines())
    out = lakehouse(settings, tmp_path, "etl", env={IP_HASH_KEY_ENV: KEY})

    assert sorted(column(settings, Table.ACCESS_LOGS, "client_ip")) == sorted(
        [mac(V4), mac(MAPPED_V4), mac(V6), mac(V6)]
    )
    ipad, opad = hmac_pads(KEY.encode())
    key_forms = [KEY, KEY.encode().hex(), ipad.hex(), opad.hex()]
    assert findings(settings, stored(stack_handle, settings), [*SECRETS, *key_forms]) == []
    # Nor in the metastore's database, Spark's event logs (plans) or the run's output.
    elsewhere = [stack_handle.stack.postgres.data, stack_handle.settings.data_dir / "spark-events"]
    assert findings(settings, elsewhere, key_forms) == []
    assert not any(k in out for k in key_forms)

    # Retention: the day 40 days back goes, and (no snapshot grace) so do its data files.
    access_logs = catalog(settings).load_table(f"{settings.catalog.namespace}.access_logs")
    old_files = [
        task.file.file_path
        for task in access_logs.scan(
            row_filter=LessThan("event_time", f"{NEW}T00:00:00+00:00")
        ).plan_files()
    ]
    on_disk = [stored_path(stack_handle, uri) for uri in old_files]
    assert on_disk and all(path.exists() for path in on_disk)
    out = lakehouse(settings, tmp_path, "maintain", *AT_ONCE, env={IP_HASH_KEY_ENV: KEY})
    assert "retention: deleted 2 rows of access_logs" in out, out
    assert {t.date() for t in column(settings, Table.ACCESS_LOGS, "event_time")} == {NEW}
    assert not any(path.exists() for path in on_disk)
    assert set(column(settings, Table.DAILY_TOP_IPS, "day")) == {NEW}


def stored_path(handle: StackHandle, uri: str) -> Path:
    """The file S3Proxy keeps for `s3://bucket/key` (or `s3a://`)."""
    bucket_and_key = uri.split("://", 1)[1]
    return handle.stack.s3proxy.blob_root / bucket_and_key
