"""A run that failed because a service went away: name the service, not the Java trace.

Spark reports a lost service as a Py4J error holding a JVM stack trace: a metastore that
stopped reads "MetaException: Could not connect to meta store ...", an S3 endpoint that
stopped often only "Lost task ... UnknownReason" (the executor's cause stays on the
executor). So the endpoints the settings name are probed first (a TCP connect, milliseconds
each): one that does not answer now is the cause. A service that went away and came back
before the error surfaced is recognised by the error's own text instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.errors import LakehouseError, ServiceUnavailable
from core.preflight import Endpoint, endpoints, probe
from core.settings import Settings

# Text that only a lost connection produces, per service (whatever else the trace holds).
_METASTORE_LOST = re.compile(r"Could not connect to meta ?store|TTransportException")
_SPARK_MASTER_LOST = re.compile(r"All masters are unresponsive|Master removed our application")
FIX = "start it (local stack: `lakehouse stack up`; `lakehouse stack status` shows what runs)"


@dataclass
class RunContext:
    """What the command was doing when it failed (set as the command goes)."""

    settings: Settings | None = None
    # The ETL stage running at the time (spark.job reports stages through `progress`).
    stage: str | None = None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def error_text(exc: BaseException) -> str:
    """Everything the exception chain says, including JVM traces behind Py4J errors."""
    parts: list[str] = []
    for cause in _causes(exc):
        try:
            parts.append(f"{type(cause).__name__}: {cause}")
        except Exception:  # Py4J's __str__ asks the JVM, which may be gone
            parts.append(type(cause).__name__)
        parts.append(str(getattr(cause, "_stackTrace", "") or ""))
    return "\n".join(parts)


def _host_port(uri: str) -> str:
    return uri.split("://", 1)[-1].rstrip("/")


def mentions_lost_connection(endpoint: Endpoint, text: str) -> bool:
    """Whether the error text shows a lost connection to this service."""
    if endpoint.service == "Hive Metastore":
        return bool(_METASTORE_LOST.search(text))
    if endpoint.service == "Spark master":
        return bool(_SPARK_MASTER_LOST.search(text))
    # S3 (any SDK): a failed connect names the endpoint's host:port.
    return f"Connect to {_host_port(endpoint.uri)}" in text or (
        _host_port(endpoint.uri) in text and "Connection refused" in text
    )


def _describe(found: list[Endpoint]) -> str:
    return " and ".join(f"the {e.service} at {e.uri} (setting '{e.setting}')" for e in found)


def service_failure(
    exc: BaseException, context: RunContext, probe_timeout: float = 2.0
) -> ServiceUnavailable | None:
    """A one-line ServiceUnavailable if `exc` came from a service going away, else None."""
    if isinstance(exc, LakehouseError) or context.settings is None:
        return None
    known = endpoints(context.settings)
    if context.stage:
        failed = f"the ETL run failed during '{context.stage}'"
        again = "run the ETL again (files already ingested are skipped)"
    else:
        failed, again = "the command failed", "run the command again"
    down = [e for e in known if probe(e, probe_timeout) is not None]
    if down:
        verb = "is" if len(down) == 1 else "are"
        return ServiceUnavailable(
            f"{failed}: {_describe(down)} {verb} unreachable — {FIX}; {again}"
        )
    text = error_text(exc)
    lost = [e for e in known if mentions_lost_connection(e, text)]
    if lost:
        return ServiceUnavailable(
            f"{failed}: it lost its connection to {_describe(lost)}, which answers again now "
            f"(was it restarted?) — {again}"
        )
    return None
