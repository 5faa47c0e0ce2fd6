"""One settings model for the three runtimes (embedded, local stack, AWS).

Everything that differs between a laptop, the local replica of production and EKS is a
value in `Settings`; the ETL, the local stack and the Kubernetes workloads all read these
objects, and the Spark / Hive / PyIceberg properties are derived from them in one place
(`core.properties`). No other module decides what a runtime looks like.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import to_jsonable_python

from core.errors import ConfigError
from core.log_format import parse_log_format

CATALOG_NAME = "lakehouse"
NAMESPACE = "logs"
METASTORE_PORT = 9083
SPARK_MASTER_PORT = 7077
SPARK_UI_PORT = 8080


Port = Annotated[int, Field(ge=1024, le=65535)]
_M = TypeVar("_M", bound=BaseModel)


class Runtime(StrEnum):
    EMBEDDED = "embedded"
    LOCAL = "local"
    AWS = "aws"


class CatalogKind(StrEnum):
    # Iceberg JDBC catalog on a SQLite file: no server, for the embedded runtime.
    SQLITE = "sqlite"
    # Iceberg Hive catalog: a Hive Metastore over thrift (local stack and EKS).
    HIVE = "hive"


class _Model(BaseModel):
    # Unknown keys are errors: a typo in a config file must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Settings(_Model):
    """How to reach the object store when URIs are s3:// (unset endpoint = AWS itself)."""

    endpoint: str | None = None
    region: str = "us-east-1"
    path_style: bool = False
    # Static keys are for S3-compatible servers only; on AWS credentials come from IRSA.
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None


class StorageSettings(_Model):
    input_uri: str
    warehouse_uri: str
    processed_uri: str
    s3: S3Settings = S3Settings()

    @field_validator("input_uri", "warehouse_uri", "processed_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("file:/", "s3://", "s3a://")):
            raise ValueError(f"must start with file:/, s3:// or s3a:// (got {value!r})")
        return value.rstrip("/")


class CatalogSettings(_Model):
    kind: CatalogKind
    # SQLite: absolute path of the catalog database. Hive: thrift://host:port.
    uri: str
    name: str = CATALOG_NAME
    namespace: str = NAMESPACE

    @field_validator("name", "namespace")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"must be a plain identifier (got {value!r})")
        return value


class SparkSettings(_Model):
    master: str = "local[*]"
    # Address executors use to reach the driver; None lets Spark pick (pods: their own IP).
    driver_host: str | None = None
    driver_memory: str = "3g"
    executor_memory: str = "2g"
    executor_cores: Annotated[int, Field(ge=1)] = 2
    # 8 beats Spark's 200 by ~6x for the top-N step on a small machine (docs/decisions/0005).
    shuffle_partitions: Annotated[int, Field(ge=1)] = 8
    event_log_dir: str | None = None
    ui_enabled: bool = False
    # The driver's console log level (spark/log4j2.properties); `lakehouse --verbose`: warn.
    log_level: Literal["error", "warn", "info", "debug"] = "error"
    # Extra properties, applied last; for tuning without a code change.
    conf: dict[str, str] = {}


MAX_FUTURE_SKEW = timedelta(days=366)


def _shown(value: Any) -> str:
    # TOML dates arrive as Python objects; show them as the user wrote them.
    return value.isoformat() if isinstance(value, date) else repr(value)


class EventTimeWindow(NamedTuple):
    earliest: datetime
    latest: datetime


class ClientIpPolicy(StrEnum):
    """What the ETL stores of a client address (and of `$remote_user`): docs/privacy.md."""

    KEEP = "keep"
    # The network part only (IPv4 /24, IPv6 /48 by default); user names are dropped.
    TRUNCATE = "truncate"
    # HMAC-SHA256 with a key from $LAKEHOUSE_IP_HASH_KEY (never from this file): the same
    # address gives the same token under one key, so top-IP reports still rank clients.
    HASH = "hash"


# The hash key is a secret: it comes from the environment (on EKS a Kubernetes Secret),
# never from a settings file, which is a ConfigMap anyone in the namespace can read.
IP_HASH_KEY_ENV = "LAKEHOUSE_IP_HASH_KEY"
# Query parameter names go into a regular expression: a plain charset keeps them literal.
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]+")


class EtlSettings(_Model):
    top_n: Annotated[int, Field(ge=1, le=1000)] = 10
    # Longer lines are rejected as `too_long` (and stored truncated in rejected_lines).
    max_line_bytes: Annotated[int, Field(ge=256)] = 65536
    # How much of a rejected line is kept in rejected_lines.raw_line.
    rejected_line_keep_chars: Annotated[int, Field(ge=64)] = 4096
    # Event times outside [min_event_time, run start + max_future_skew] are rejected as
    # `out_of_range`: a server clock reset to 1970 or a year-9999 typo would otherwise open
    # a partition (and a report week) of its own, and years past 9999 cannot even be read
    # back by Python.
    min_event_time: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_future_skew: timedelta = timedelta(days=1)
    # A backlog is ingested in batches of at most this many files / compressed input bytes,
    # one commit each (with its reports and ledger rows): memory stays bounded and a run
    # killed mid-backlog resumes at the next batch. The byte limit holds 10M lines (~600 MB
    # of gzip) in one batch; a single larger file is a batch of its own.
    max_files_per_batch: Annotated[int, Field(ge=1)] = 500
    max_bytes_per_batch: Annotated[int, Field(ge=1)] = 1 << 30
    # Latency reports count requests whose $request_time exceeds this as slow. Applied when
    # a batch's aggregates are written; `lakehouse rebuild-reports` applies a new value to
    # the days already loaded.
    slow_request_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0

    # nginx's log_format: a name in core.log_format.NAMED (combined, main, timed, vhost) or
    # the format string / whole directive as in nginx.conf. One format per run.
    log_format: str = "combined"

    @field_validator("log_format")
    @classmethod
    def _usable_log_format(cls, value: str) -> str:
        parse_log_format(value)  # raises ValueError naming what is wrong
        return value

    # Personal data (docs/privacy.md): applied to each line before anything is written.
    client_ip: ClientIpPolicy = ClientIpPolicy.KEEP
    ipv4_prefix: Annotated[int, Field(ge=0, le=32)] = 24
    ipv6_prefix: Annotated[int, Field(ge=0, le=128)] = 48
    # Values of these query parameters are replaced in path, referrer and raw_line.
    redact_query_params: tuple[str, ...] = ()

    @field_validator("redact_query_params")
    @classmethod
    def _plain_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not _PARAM_NAME.fullmatch(name):
                raise ValueError(
                    f"query parameter names are letters, digits, '_', '-', '.', '[', ']' "
                    f"(got {name!r})"
                )
        return names

    @field_validator("min_event_time", mode="wrap")
    @classmethod
    def _past_instant(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> datetime:
        example = "an ISO 8601 date-time with a UTC offset, e.g. 2000-01-01T00:00:00Z"
        try:
            moment: datetime = handler(value)
        except ValidationError:
            raise ValueError(f"must be {example} (got {_shown(value)})") from None
        # A local time would mean a different instant on every machine the job runs on.
        if moment.tzinfo is None:
            raise ValueError(f"must be {example} (got {_shown(value)}, which has no offset)")
        if moment >= datetime.now(UTC):
            raise ValueError(
                f"must be in the past, or every line is rejected (got {_shown(value)})"
            )
        return moment.astimezone(UTC)

    @field_validator("max_future_skew", mode="wrap")
    @classmethod
    def _sane_skew(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> timedelta:
        # Negative would reject lines logged a moment ago; the cap keeps run start + skew a
        # representable timestamp and the check meaningful.
        expected = f"an ISO 8601 duration from P0D to P{MAX_FUTURE_SKEW.days}D, e.g. P1D or PT6H"
        try:
            skew: timedelta = handler(value)
        except ValidationError:
            raise ValueError(f"must be {expected} (got {_shown(value)})") from None
        if not timedelta(0) <= skew <= MAX_FUTURE_SKEW:
            raise ValueError(f"must be {expected} (got {_shown(value)})")
        return skew

    def event_time_window(self, run_start: datetime) -> EventTimeWindow:
        """The event times a run started at `run_start` accepts (both ends included)."""
        return EventTimeWindow(self.min_event_time, run_start + self.max_future_skew)


class RetentionSettings(_Model):
    """How long `lakehouse maintain` keeps rows (None: forever); docs/privacy.md."""

    # Rows whose event_time is older than this many days (whole UTC days).
    access_logs_days: Annotated[int, Field(ge=1)] | None = None
    # Rejected lines ingested longer ago than this.
    rejected_lines_days: Annotated[int, Field(ge=1)] | None = None
    # Daily reports for older days; weekly reports for weeks that ended before then.
    reports_days: Annotated[int, Field(ge=1)] | None = None


# Hosts a lower-cased name: "www.example.com", not "WWW.Example.com." or "example.com:8080".
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


class ReportSettings(_Model):
    """What the report tables leave out (docs/reports.md)."""

    # The site's own host names: referrers from them are self-referrals, left out of the
    # top referrers. A log whose format has `$host` needs none (a referrer equal to the
    # line's host is left out anyway); list the names when it has not, or for other names
    # of the same site.
    site_hosts: tuple[str, ...] = ()

    @field_validator("site_hosts", mode="before")
    @classmethod
    def _lower_case_hosts(cls, hosts: Any) -> Any:
        if not isinstance(hosts, list | tuple):
            return hosts
        lowered = tuple(h.lower() if isinstance(h, str) else h for h in hosts)
        for host in lowered:
            if not isinstance(host, str) or not _HOST_NAME.fullmatch(host):
                raise ValueError(
                    f"host names only, without scheme, port or path, e.g. www.example.com "
                    f"(got {_shown(host)})"
                )
        return lowered


class Settings(_Model):
    runtime: Runtime
    storage: StorageSettings
    catalog: CatalogSettings
    spark: SparkSettings = SparkSettings()
    etl: EtlSettings = EtlSettings()
    retention: RetentionSettings = RetentionSettings()
    reports: ReportSettings = ReportSettings()

    def table(self, name: str) -> str:
        """Fully qualified Spark identifier of a table, e.g. `lakehouse.logs.access_logs`."""
        return f"{self.catalog.name}.{self.catalog.namespace}.{name}"

    def to_toml_dict(self) -> dict[str, Any]:
        """Plain dict (secrets revealed) for rendering a config file, e.g. into a ConfigMap."""
        data = self.model_dump(mode="python", exclude_none=True)

        def reveal(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: reveal(v) for k, v in node.items()}
            if isinstance(node, SecretStr):
                return node.get_secret_value()
            return node.value if isinstance(node, StrEnum) else node

        return reveal(data)


class LocalStackSettings(_Model):
    """The local replica of production: ports, data directory, bucket names.

    `core.runtimes.local_stack` turns these into `Settings`; the stack's processes
    (local_stack/) are started from the same values.
    """

    # Everything the stack's processes write lives here, so stop/start keeps the tables.
    data_dir: Path = Path("var/stack")
    host: str = "127.0.0.1"
    postgres_port: Port = 15432
    metastore_port: Port = 19083
    s3_port: Port = 19000
    spark_master_port: Port = 17077
    spark_master_ui_port: Port = 18080
    spark_worker_ui_port: Port = 18090  # worker i listens on this + i
    spark_history_port: Port = 18180
    workers: Annotated[int, Field(ge=1, le=8)] = 2
    worker_cores: Annotated[int, Field(ge=1)] = 1
    worker_memory: str = "2g"
    input_bucket: str = "lakehouse-input"
    processed_bucket: str = "lakehouse-processed"
    warehouse_bucket: str = "lakehouse-warehouse"
    # S3Proxy's credentials: local only, never used against AWS.
    s3_access_key: str = "local-access-key"
    s3_secret_key: str = "local-secret-key"
    metastore_db: str = "metastore"
    metastore_db_user: str = "hive"
    metastore_db_password: str = "hive-local-only"
    # What `--runtime local` runs the ETL and `lakehouse maintain` with (e.g. [etl]
    # log_format = "timed", [retention] access_logs_days = 30, [reports] site_hosts).
    etl: EtlSettings = EtlSettings()
    retention: RetentionSettings = RetentionSettings()
    reports: ReportSettings = ReportSettings()


def _first_error(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return ConfigError(f"{source}: unknown setting '{where}' (check the spelling)")
    return ConfigError(f"{source}: setting '{where}': {err['msg']}")


def parse_settings(data: dict[str, Any], source: str = "settings") -> Settings:
    """Validate a settings dict; raise ConfigError naming the first bad setting."""
    return _validate(Settings, data, source)


def load_settings_file(path: Path) -> Settings:
    """Read a TOML settings file (the format `render_settings_toml` writes)."""
    return _validate(Settings, _read_toml(path), str(path))


def load_stack_settings_file(path: Path) -> LocalStackSettings:
    """Read a local stack TOML file: LocalStackSettings fields at top level, e.g.

    data_dir = "/srv/lakehouse-stack"
    metastore_port = 29083
    workers = 3
    """
    return _validate(LocalStackSettings, _read_toml(path), str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:  # a directory, no permission
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _validate(model: type[_M], data: dict[str, Any], source: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, source) from None


def render_settings_toml(settings: Settings) -> str:
    """Serialise settings as TOML (the format `load_settings_file` reads)."""
    return _render_toml(settings.to_toml_dict())


def render_stack_toml(stack: LocalStackSettings) -> str:
    """A local stack file for these settings (tests write one for subprocesses)."""
    return _render_toml(stack.model_dump(mode="python", exclude_none=True))


def _render_toml(data: dict[str, Any]) -> str:
    """TOML for a settings dict (no third-party writer: the shape is two levels deep)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, datetime):
            return v.isoformat()  # a TOML offset date-time, read back as an aware datetime
        if isinstance(v, timedelta):
            return f'"{to_jsonable_python(v)}"'  # ISO 8601 duration, e.g. "P1D"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            inner = ", ".join(f"{_toml_key(k)} = {value(x)}" for k, x in v.items())
            return "{ " + inner + " }" if inner else "{}"
        escaped = str(v).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'

    lines: list[str] = []

    def section(prefix: str, data: dict[str, Any]) -> None:
        scalars = {k: v for k, v in data.items() if not _is_table(k, v)}
        tables = {k: v for k, v in data.items() if _is_table(k, v)}
        if prefix:
            lines.append(f"\n[{prefix}]")
        lines.extend(f"{_toml_key(k)} = {value(v)}" for k, v in scalars.items())
        for k, v in tables.items():
            section(f"{prefix}.{k}" if prefix else k, v)

    section("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table(key: str, value: Any) -> bool:
    # `spark.conf` is free-form (keys with dots): written inline, not as a section.
    return isinstance(value, dict) and key != "conf"


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else f'"{key}"'
