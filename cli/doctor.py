"""`lakehouse doctor`: does this runtime have everything an ETL run needs?

Each check talks to the real thing, the way the run will: it runs `java -version`, looks
for the pinned jars, calls the metastore over thrift (or opens the SQLite catalog), writes,
reads, lists and deletes a probe object where the run writes, asks the Spark master for its
workers, and asks who the object store sees. A failed check says what was found and how to
fix it. No JVM and no Spark session are started, so the command answers in seconds.

Exit code 0 when nothing failed (warnings allowed), 2 otherwise.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass
from enum import StrEnum
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from core import jars
from core.config import DEFAULT_ROOT, load_stack_settings, resolve_settings
from core.errors import EnvironmentProblem
from core.java import check_java
from core.preflight import HINT, Endpoint, endpoints, probe
from core.properties import jar_sets, uses_s3
from core.settings import SPARK_UI_PORT, CatalogKind, Runtime, Settings

TIMEOUT = 5.0  # seconds per network call: a healthy service answers in milliseconds
PROBE_DIR = "_lakehouse_doctor"
# What the AWS SDK v2 (Java, pinned in core/jars.toml) does about flexible checksums, and
# the environment variables that change it (also read by the SDK for Python).
CHECKSUM_SETTINGS = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": ("when_supported", "when_required"),
    "AWS_RESPONSE_CHECKSUM_VALIDATION": ("when_supported", "when_required"),
}


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but probably not as intended
    FAIL = "fail"  # a run would fail
    SKIP = "skip"  # not applicable, or cannot be checked because an earlier check failed


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str  # what was found
    fix: str = ""  # what to do, when the status is not ok


# --- Java and jars -----------------------------------------------------------------------
def java_check() -> Check:
    try:
        java = check_java()
    except EnvironmentProblem as exc:
        return Check("java", Status.FAIL, "no usable Java 17+", str(exc))
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return Check("java", Status.OK, f"{out.splitlines()[0]} at {java}")


def jars_check(settings: Settings) -> Check:
    sets = jar_sets(settings)
    wanted = jars.artifacts_for(sets)
    missing = [a.filename for a in wanted if not (jars.cache_dir() / a.filename).exists()]
    if missing:
        return Check(
            "jars",
            Status.FAIL,
            f"{len(missing)} of {len(wanted)} pinned jars ({', '.join(sets)}) missing from "
            f"{jars.cache_dir()}: {', '.join(missing)}",
            "run `lakehouse setup` with the same --runtime/--config "
            "(or point LAKEHOUSE_JAR_CACHE at a filled cache)",
        )
    return Check(
        "jars", Status.OK, f"{len(wanted)} pinned jars ({', '.join(sets)}) in {jars.cache_dir()}"
    )


# --- the catalog -------------------------------------------------------------------------
def sqlite_catalog_check(settings: Settings) -> Check:
    path = Path(settings.catalog.uri)
    fix = "set catalog.uri (or --root) to a writable place"
    # SQLite writes a journal next to the database: the directory must be writable too.
    directory = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if directory is None or not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        return Check(
            "catalog",
            Status.FAIL,
            f"SQLite catalog {path}: {directory} is not a writable directory",
            fix,
        )
    if not path.exists():
        return Check(
            "catalog",
            Status.OK,
            f"SQLite catalog {path} does not exist yet; {directory} is writable",
        )
    if not os.access(path, os.W_OK):
        return Check("catalog", Status.FAIL, f"SQLite catalog {path} is not writable", fix)
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=TIMEOUT)) as db:
            tables = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()
    except sqlite3.Error as exc:
        return Check("catalog", Status.FAIL, f"SQLite catalog {path}: {exc}", fix)
    return Check("catalog", Status.OK, f"SQLite catalog {path} is writable ({tables[0]} tables)")


@contextmanager
def metastore_client(uri: str) -> Iterator[Any]:
    """A thrift client of the Hive Metastore at `uri` (what PyIceberg and Spark talk to)."""
    from hive_metastore.ThriftHiveMetastore import Client
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSocket, TTransport

    parts = urlsplit(uri)
    sock = TSocket.TSocket(parts.hostname, parts.port)
    sock.setTimeout(int(TIMEOUT * 1000))
    transport = TTransport.TBufferedTransport(sock)
    transport.open()
    try:
        yield Client(TBinaryProtocol.TBinaryProtocol(transport))
    finally:
        transport.close()


def hive_catalog_checks(settings: Settings) -> list[Check]:
    uri = settings.catalog.uri
    problem = probe(Endpoint("Hive Metastore", "catalog.uri", uri), TIMEOUT)
    if problem is not None:
        return [
            Check(
                "catalog",
                Status.FAIL,
                f"the Hive Metastore at {uri} (setting 'catalog.uri') is unreachable: {problem}",
                HINT,
            ),
            Check("catalog locks", Status.SKIP, "the metastore is unreachable"),
        ]
    from hive_metastore.ttypes import ShowLocksRequest

    try:
        with metastore_client(uri) as client:
            version = client.getVersion()
            databases = client.get_all_databases()
    except Exception as exc:
        return [
            Check(
                "catalog",
                Status.FAIL,
                f"the Hive Metastore at {uri} accepts connections but does not answer: {exc}",
                "read the metastore's log (local stack: `lakehouse stack logs metastore`)",
            ),
            Check("catalog locks", Status.SKIP, "the metastore does not answer"),
        ]
    catalog = Check(
        "catalog",
        Status.OK,
        f"Hive Metastore at {uri} answers: version {version}, "
        f"{len(databases)} database(s), namespace '{settings.catalog.namespace}' "
        f"{'present' if settings.catalog.namespace in databases else 'created by the first run'}",
    )
    # Iceberg commits take a Hive lock; the lock tables come with the Hive 3 schema.
    try:
        with metastore_client(uri) as client:
            held = len(client.show_locks(ShowLocksRequest()).locks or [])
    except Exception as exc:
        return [
            catalog,
            Check(
                "catalog locks",
                Status.FAIL,
                f"the metastore cannot read its lock tables (HIVE_LOCKS): {exc}",
                "create the Hive 3.1 schema with `schematool -dbType postgres -initSchema` "
                "(or -upgradeSchema) against the metastore database",
            ),
        ]
    return [catalog, Check("catalog locks", Status.OK, f"lock tables present, {held} lock(s) held")]


# --- the object store --------------------------------------------------------------------
def _filesystem(settings: Settings) -> Any:
    from pyarrow import fs

    s3 = settings.storage.s3
    options: dict[str, Any] = {
        "region": s3.region,
        "force_virtual_addressing": not s3.path_style,
        "connect_timeout": TIMEOUT,
        "request_timeout": TIMEOUT,
        # One attempt: a stopped endpoint should fail the check now, not after retries.
        "retry_strategy": fs.AwsStandardS3RetryStrategy(max_attempts=1),
    }
    if s3.endpoint:
        parts = urlsplit(s3.endpoint)
        options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme}
    if s3.access_key and s3.secret_key:
        options |= {
            "access_key": s3.access_key.get_secret_value(),
            "secret_key": s3.secret_key.get_secret_value(),
        }
    return fs.S3FileSystem(**options)


def _location(settings: Settings, uri: str) -> tuple[Any, str]:
    """(pyarrow filesystem, path in it) for a file:// or s3:// URI of the settings."""
    from pyarrow import fs

    if uri.startswith("file:"):
        return fs.LocalFileSystem(), urlsplit(uri).path
    return _filesystem(settings), uri.split("://", 1)[1]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _store_fix(settings: Settings, uri: str) -> str:
    if uri.startswith("file:"):
        return "make the directory writable, or set storage.*_uri (or --root) elsewhere"
    if settings.storage.s3.endpoint:
        return (
            f"is the S3 endpoint {settings.storage.s3.endpoint} (setting 'storage.s3.endpoint') "
            "running? Local stack: `lakehouse stack up` (`lakehouse stack status`)"
        )
    return (
        "check that the bucket exists and that the role's policy allows s3:PutObject, "
        "s3:GetObject, s3:ListBucket and s3:DeleteObject on it"
    )


def write_probe_check(settings: Settings, label: str, uri: str) -> Check:
    """Write, read back, list and delete one small object under `uri`."""
    from pyarrow import fs

    name = f"object store ({label})"
    store, base = _location(settings, uri)
    path = f"{base}/{PROBE_DIR}/probe-{uuid.uuid4().hex}"
    payload = f"lakehouse doctor {uuid.uuid4()}".encode()
    step = "write"
    try:
        if uri.startswith("file:"):
            store.create_dir(f"{base}/{PROBE_DIR}", recursive=True)
        with store.open_output_stream(path, compression=None) as out:
            out.write(payload)
        step = "read"
        with store.open_input_stream(path, compression=None) as src:
            if src.read() != payload:
                raise OSError("read back other bytes than were written")
        step = "list"
        listed = store.get_file_info(fs.FileSelector(f"{base}/{PROBE_DIR}"))
        if path not in {info.path for info in listed}:
            raise OSError("the probe object is missing from the listing")
        step = "delete"
        store.delete_file(path)
        if store.get_file_info(path).type != fs.FileType.NotFound:
            raise OSError("the probe object is still there after the delete")
        # pyarrow keeps an empty "directory" (a marker object on S3) after the delete.
        with suppress(OSError):
            store.delete_dir(f"{base}/{PROBE_DIR}")
    except Exception as exc:
        return Check(
            name,
            Status.FAIL,
            f"{step} of a probe object under {uri} failed: {_first_line(exc)}",
            _store_fix(settings, uri),
        )
    return Check(name, Status.OK, f"write, read, list, delete of a probe object under {uri}")


def read_check(settings: Settings) -> Check:
    from pyarrow import fs

    uri = settings.storage.input_uri
    store, base = _location(settings, uri)
    try:
        found = store.get_file_info(fs.FileSelector(base, allow_not_found=True, recursive=False))
    except Exception as exc:
        return Check(
            "object store (input)",
            Status.FAIL,
            f"listing {uri} failed: {_first_line(exc)}",
            _store_fix(settings, uri),
        )
    return Check(
        "object store (input)", Status.OK, f"{uri} lists ({len(found)} entries at the top)"
    )


def s3_settings_check(settings: Settings) -> Check:
    """Path-style addressing and the SDK's flexible checksums: what S3-compatible servers
    trip over."""
    s3 = settings.storage.s3
    checksum = {
        name: os.environ.get(name, allowed[0]).lower()
        for name, allowed in CHECKSUM_SETTINGS.items()
    }
    bad = {k: v for k, v in checksum.items() if v not in CHECKSUM_SETTINGS[k]}
    if bad:
        name, value = next(iter(bad.items()))
        return Check(
            "s3 settings",
            Status.FAIL,
            f"${name}={value} is not a value the AWS SDK accepts",
            f"set {name} to one of {', '.join(CHECKSUM_SETTINGS[name])}, or unset it",
        )
    checksums = (
        f"request checksums {checksum['AWS_REQUEST_CHECKSUM_CALCULATION']}, "
        f"response validation {checksum['AWS_RESPONSE_CHECKSUM_VALIDATION']}"
    )
    addressing = "path-style" if s3.path_style else "virtual-hosted"
    if s3.endpoint and not s3.path_style:
        host = urlsplit(s3.endpoint).hostname or ""
        literal = host == "localhost" or _is_ip(host)
        return Check(
            "s3 settings",
            Status.FAIL if literal else Status.WARN,
            f"endpoint {s3.endpoint} with virtual-hosted addressing: requests go to "
            f"<bucket>.{host}{', which cannot resolve' if literal else ''}; {checksums}",
            "set storage.s3.path_style = true (S3-compatible servers expect path-style)",
        )
    if not s3.endpoint and s3.path_style:
        return Check(
            "s3 settings",
            Status.WARN,
            f"AWS S3 with path-style addressing; {checksums}",
            "set storage.s3.path_style = false: AWS is retiring path-style requests",
        )
    where = s3.endpoint or f"AWS S3 ({s3.region})"
    # SDK default: a CRC32 checksum on every PUT; an S3-compatible server must accept it.
    note = (
        " (the endpoint must accept them, else AWS_REQUEST_CHECKSUM_CALCULATION=when_required)"
        if s3.endpoint and checksum["AWS_REQUEST_CHECKSUM_CALCULATION"] == "when_supported"
        else ""
    )
    return Check("s3 settings", Status.OK, f"{where}, {addressing}; {checksums}{note}")


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


# --- Spark ---------------------------------------------------------------------------------
def master_ui_url(settings: Settings) -> str:
    """The master's web UI (JSON API): the local stack's port, else the EKS Service's."""
    host = urlsplit(settings.spark.master).hostname
    if settings.runtime is Runtime.LOCAL:
        stack = load_stack_settings()
        if settings.spark.master == f"spark://{stack.host}:{stack.spark_master_port}":
            return f"http://{stack.host}:{stack.spark_master_ui_port}"
    return f"http://{host}:{SPARK_UI_PORT}"


def spark_check(settings: Settings, master_ui: str | None) -> Check:
    master = settings.spark.master
    if master.startswith("local"):
        cores = len(os.sched_getaffinity(0))
        match = re.fullmatch(r"local\[(\d+)\]", master)
        if match and int(match.group(1)) > cores:
            return Check(
                "spark master",
                Status.WARN,
                f"{master} asks for more threads than the {cores} core(s) available",
                "use local[*]",
            )
        return Check("spark master", Status.OK, f"{master}: {cores} core(s) available")
    endpoint = next(e for e in endpoints(settings) if e.service == "Spark master")
    problem = probe(endpoint, TIMEOUT)
    if problem is not None:
        return Check(
            "spark master",
            Status.FAIL,
            f"the Spark master at {master} (setting 'spark.master') is unreachable: {problem}",
            HINT,
        )
    ui = master_ui or master_ui_url(settings)
    try:
        with urllib.request.urlopen(f"{ui}/json/", timeout=TIMEOUT) as response:
            state = json.load(response)
    except (OSError, ValueError) as exc:
        return Check(
            "spark master",
            Status.FAIL,
            f"{master} accepts connections but its JSON API at {ui}/json/ does not answer: {exc}",
            "pass the master's web UI with --master-ui URL",
        )
    alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
    free = sum(int(w.get("coresfree", 0)) for w in alive)
    total = sum(int(w.get("cores", 0)) for w in alive)
    found = (
        f"{master} is {state.get('status')}: {len(alive)} alive worker(s), "
        f"{free} of {total} cores free"
    )
    if state.get("status") != "ALIVE":
        return Check(
            "spark master", Status.FAIL, found, "wait for the master to recover, or restart it"
        )
    if not alive:
        return Check(
            "spark master",
            Status.FAIL,
            found,
            "start workers (local stack: `lakehouse stack up`; EKS: the spark-worker Deployment)",
        )
    if free == 0:
        apps = ", ".join(a.get("name", "?") for a in state.get("activeapps", [])) or "none"
        return Check(
            "spark master",
            Status.FAIL,
            f"{found} (running applications: {apps})",
            "wait for the running application to finish, or add workers",
        )
    return Check("spark master", Status.OK, found)


# --- identity ------------------------------------------------------------------------------
StsClient = Callable[[Settings], Any]


def _boto3_sts(settings: Settings) -> Any:
    import boto3  # not a pinned dependency: only the AWS runtime needs it

    return boto3.client("sts", region_name=settings.storage.s3.region)


def identity_check(settings: Settings, sts: StsClient = _boto3_sts) -> Check:
    s3 = settings.storage.s3
    if not uses_s3(settings):
        user = getpass.getuser()
        return Check("identity", Status.OK, f"local files, as OS user {user} (uid {os.getuid()})")
    if s3.access_key and s3.secret_key:
        key = s3.access_key.get_secret_value()
        return Check(
            "identity",
            Status.OK,
            f"static access key {key[:4]}… from storage.s3.access_key at {s3.endpoint or 'AWS S3'}",
        )
    # AWS: the credentials the default chain finds (IRSA's web identity in a pod).
    try:
        client = sts(settings)
    except ImportError:
        return Check(
            "identity",
            Status.SKIP,
            "cannot ask AWS STS who we are: the boto3 package is not installed",
            "pip install boto3, then run doctor again",
        )
    try:
        arn = client.get_caller_identity()["Arn"]
    except Exception as exc:
        return Check(
            "identity",
            Status.FAIL,
            f"AWS STS GetCallerIdentity failed: {_first_line(exc)}",
            "no AWS credentials were found: in a pod, check its service account's "
            "eks.amazonaws.com/role-arn annotation (IRSA); elsewhere, AWS_PROFILE or keys",
        )
    if ":assumed-role/" not in arn:
        return Check(
            "identity",
            Status.WARN,
            f"running as {arn}, not an assumed role",
            "pods should use the role of their service account (IRSA), not user keys",
        )
    return Check("identity", Status.OK, f"assumed role {arn}")


# --- all of it -----------------------------------------------------------------------------
def run_checks(settings: Settings, master_ui: str | None = None) -> list[Check]:
    checks = [java_check(), jars_check(settings)]
    if settings.catalog.kind is CatalogKind.SQLITE:
        checks.append(sqlite_catalog_check(settings))
    else:
        checks += hive_catalog_checks(settings)
    storage = settings.storage
    checks += [
        write_probe_check(settings, "warehouse", storage.warehouse_uri),
        write_probe_check(settings, "processed", storage.processed_uri),
        read_check(settings),
    ]
    if uses_s3(settings):
        checks.append(s3_settings_check(settings))
    checks += [spark_check(settings, master_ui), identity_check(settings)]
    return checks


_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render_table(settings: Settings, checks: list[Check]) -> Table:
    table = Table(title=f"lakehouse doctor: {settings.runtime} runtime", title_justify="left")
    for column in ("check", "status", "found", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(
            check.name, f"[{_STYLE[check.status]}]{check.status}[/]", check.detail, check.fix
        )
    return table


class DoctorFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def doctor(
    fmt: Annotated[DoctorFormat, typer.Option("--format", "-f")] = DoctorFormat.TABLE,
    master_ui: Annotated[
        str | None,
        typer.Option(
            help="The Spark master's web UI, e.g. http://host:8080 (default: the local "
            "stack's, else port 8080 on the master's host)."
        ),
    ] = None,
    runtime: Annotated[
        str | None, typer.Option("--runtime", "-r", help="embedded (default) or local.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Settings TOML ($LAKEHOUSE_CONFIG).")
    ] = None,
    root: Annotated[Path, typer.Option("--root", help="Embedded runtime: its directory.")] = (
        DEFAULT_ROOT
    ),
) -> None:
    """Check everything a run needs on this runtime; name what is wrong and the fix."""
    settings = resolve_settings(runtime, config, root)
    checks = run_checks(settings, master_ui)
    failed = any(c.status is Status.FAIL for c in checks)
    if fmt is DoctorFormat.JSON:
        payload = {
            "runtime": str(settings.runtime),
            "ok": not failed,
            "checks": [asdict(c) | {"status": str(c.status)} for c in checks],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        Console(soft_wrap=False).print(render_table(settings, checks))
    raise typer.Exit(2 if failed else 0)
