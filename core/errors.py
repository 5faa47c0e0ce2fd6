"""Errors a user can act on. The CLI prints their message as one line and exits non-zero."""

from __future__ import annotations


class LakehouseError(Exception):
    """Base class: the message names the cause and the fix."""


class ConfigError(LakehouseError):
    """A setting is missing, unknown, or has a bad value."""


class EnvironmentProblem(LakehouseError):
    """The machine lacks something (Java, a jar, a free port)."""


class ServiceUnavailable(LakehouseError):
    """A service the runtime needs (metastore, S3 endpoint, Spark master) does not answer."""


class InputError(LakehouseError):
    """The input location is missing or unreadable."""


class QueryError(LakehouseError):
    """The SQL does not parse, names an unknown table or column, or fails to run."""

    @classmethod
    def from_engine(cls, message: str) -> QueryError:
        """The engine's first non-empty line: the rest is a plan or a stack trace."""
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        return cls(lines[0] if lines else "query failed")
