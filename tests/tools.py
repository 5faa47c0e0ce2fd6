"""System tools some tests need: skipped where the machine lacks one, failed in CI."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True on the CI machine (`CI=true`, exported by .ci/run and by CI services)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(available: bool, message: str) -> None:
    """Skip the calling test when its system tool is missing here; fail it in CI, where
    .ci/run installs the tool, so a broken CI set-up cannot pass by skipping."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{message} (.ci/run installs it: in CI a missing tool is a broken set-up)")
    pytest.skip(message)
