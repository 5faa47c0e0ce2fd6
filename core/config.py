"""Which settings a command runs with: a runtime profile, or a TOML file (EKS pods use one)."""

from __future__ import annotations

import os
from pathlib import Path

from core import runtimes
from core.errors import ConfigError
from core.settings import (
    LocalStackSettings,
    Runtime,
    Settings,
    load_settings_file,
    load_stack_settings_file,
)

DEFAULT_ROOT = Path("var/lakehouse")
CONFIG_ENV = "LAKEHOUSE_CONFIG"
STACK_CONFIG_ENV = "LAKEHOUSE_STACK_CONFIG"


def resolve_settings(
    runtime: str | None = None, config: Path | None = None, root: Path = DEFAULT_ROOT
) -> Settings:
    """`--config` (or $LAKEHOUSE_CONFIG) wins; otherwise the named runtime's defaults."""
    config = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if config is not None:
        return load_settings_file(config)
    try:
        chosen = Runtime(runtime or Runtime.EMBEDDED)
    except ValueError:
        raise ConfigError(
            f"unknown runtime {runtime!r}: use 'embedded' or 'local' "
            "(the AWS runtime reads its settings from --config, rendered by the workloads)"
        ) from None
    if chosen is Runtime.EMBEDDED:
        return runtimes.embedded(root)
    if chosen is Runtime.LOCAL:
        # The same ports as `lakehouse stack up` ($LAKEHOUSE_STACK_CONFIG, else defaults).
        return runtimes.local_stack(load_stack_settings())
    raise ConfigError("runtime 'aws' needs --config PATH (the settings file mounted in the pod)")


def load_stack_settings(path: Path | None = None) -> LocalStackSettings:
    """`path`, else $LAKEHOUSE_STACK_CONFIG, else the defaults (data in var/stack)."""
    if path is None and os.environ.get(STACK_CONFIG_ENV):
        path = Path(os.environ[STACK_CONFIG_ENV])
    return LocalStackSettings() if path is None else load_stack_settings_file(path)
