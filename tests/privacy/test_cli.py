"""A hash policy without its key, through the real command: one line, exit 2, nothing
written (the check runs before Spark starts, so this takes seconds)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import runtimes
from core.settings import IP_HASH_KEY_ENV, ClientIpPolicy, EtlSettings, render_settings_toml


@pytest.mark.parametrize("command", [["etl"], ["maintain", "--rewrite-ips"]])
def test_hash_without_a_key_stops_before_anything_starts(
    tmp_path: Path, command: list[str]
) -> None:
    settings = runtimes.embedded(tmp_path).model_copy(
        update={"etl": EtlSettings(client_ip=ClientIpPolicy.HASH)}
    )
    config = tmp_path / "settings.toml"
    config.write_text(render_settings_toml(settings))
    env = {k: v for k, v in os.environ.items() if k != IP_HASH_KEY_ENV}
    run = subprocess.run(
        [sys.executable, "-c", "from cli.app import main; main()", *command, "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines == [
        f"error: setting 'etl.client_ip' is 'hash' but ${IP_HASH_KEY_ENV} is not set: set it "
        "to a secret of 16+ bytes, e.g. `openssl rand -hex 32` (docs/privacy.md)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]
