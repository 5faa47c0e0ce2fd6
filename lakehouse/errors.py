"""Errors a user can act on. The CLI prints their message as one line and exits non-zero."""


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
