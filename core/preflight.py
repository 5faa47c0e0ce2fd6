"""Before Spark starts: can the services these settings name be reached at all?

Without this, an unreachable Spark master costs a minute of registration retries and an
unreachable metastore surfaces as a thrift stack trace; a TCP connect answers in
milliseconds and lets the error name the service and the setting. `core.failures`
uses the same probe to name a service that went away during a run.
"""

from __future__ import annotations

import socket
from typing import NamedTuple
from urllib.parse import urlsplit

from core.errors import ServiceUnavailable
from core.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}
HINT = "is it running? For the local stack: `lakehouse stack up` (`lakehouse stack status`)"


class Endpoint(NamedTuple):
    service: str
    setting: str
    uri: str


def endpoints(settings: Settings) -> list[Endpoint]:
    """Every network service the settings point at."""
    found = []
    if settings.spark.master.startswith("spark://"):
        found.append(Endpoint("Spark master", "spark.master", settings.spark.master))
    if settings.catalog.uri.startswith("thrift://"):
        found.append(Endpoint("Hive Metastore", "catalog.uri", settings.catalog.uri))
    if settings.storage.s3.endpoint:
        found.append(Endpoint("S3 endpoint", "storage.s3.endpoint", settings.storage.s3.endpoint))
    return found


def probe(endpoint: Endpoint, timeout: float) -> str | None:
    """None if a TCP connection to the endpoint opens, else why not."""
    parts = urlsplit(endpoint.uri)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def check_reachable(settings: Settings, timeout: float = 3.0, *, spark: bool = True) -> None:
    """`spark=False`: only what a JVM-free reader needs (the metastore and the object store)."""
    for endpoint in endpoints(settings):
        if not spark and endpoint.setting == "spark.master":
            continue
        problem = probe(endpoint, timeout)
        if problem is not None:
            raise ServiceUnavailable(
                f"cannot reach the {endpoint.service} at {endpoint.uri} "
                f"(setting '{endpoint.setting}'): {problem} — {HINT}"
            )
