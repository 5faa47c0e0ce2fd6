"""Before Spark starts: can the services these settings name be reached at all?

Without this, an unreachable Spark master costs a minute of registration retries and an
unreachable metastore surfaces as a thrift stack trace; a TCP connect answers in
milliseconds and lets the error name the service and the setting.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from lakehouse.errors import ServiceUnavailable
from lakehouse.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoints(settings: Settings) -> list[tuple[str, str, str]]:
    """(service, setting, URI) for every network service the settings point at."""
    found = []
    if settings.spark.master.startswith("spark://"):
        found.append(("Spark master", "spark.master", settings.spark.master))
    if settings.catalog.uri.startswith("thrift://"):
        found.append(("Hive Metastore", "catalog.uri", settings.catalog.uri))
    if settings.storage.s3.endpoint:
        found.append(("S3 endpoint", "storage.s3.endpoint", settings.storage.s3.endpoint))
    return found


def check_reachable(settings: Settings, timeout: float = 3.0) -> None:
    for service, setting, uri in endpoints(settings):
        parts = urlsplit(uri)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                pass
        except OSError as exc:
            raise ServiceUnavailable(
                f"cannot reach the {service} at {uri} (setting '{setting}'): {exc.strerror or exc}"
                " — is it running? For the local stack: `make stack-up`, `make stack-status`"
            ) from None
