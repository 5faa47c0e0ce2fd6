"""Which LocalStackSettings to use: a TOML file ($LAKEHOUSE_STACK_CONFIG) or the defaults.

The file holds LocalStackSettings fields at top level, e.g.

    data_dir = "/srv/lakehouse-stack"
    metastore_port = 29083
    workers = 3
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from lakehouse.errors import ConfigError
from lakehouse.stack_settings import LocalStackSettings

STACK_CONFIG_ENV = "LAKEHOUSE_STACK_CONFIG"


def load_stack_settings(path: Path | None = None) -> LocalStackSettings:
    """`path`, else $LAKEHOUSE_STACK_CONFIG, else the defaults (data in var/stack)."""
    if path is None and os.environ.get(STACK_CONFIG_ENV):
        path = Path(os.environ[STACK_CONFIG_ENV])
    if path is None:
        return LocalStackSettings()
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"stack config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"stack config file {path} is not valid TOML: {exc}") from None
    try:
        return LocalStackSettings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{path}: unknown setting '{where}' (check the spelling)") from None
        raise ConfigError(f"{path}: setting '{where}': {err['msg']}") from None


def render_stack_toml(stack: LocalStackSettings) -> str:
    """A stack config file for these settings (tests write one for subprocesses)."""
    lines = []
    for key, value in stack.model_dump(mode="json").items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    return "\n".join(lines) + "\n"
