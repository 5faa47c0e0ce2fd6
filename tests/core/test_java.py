"""A missing or old Java is one actionable line, before Spark tries to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import EnvironmentProblem
from core.java import check_java


def test_missing_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match=r"Java 17 is required.*apt-get install"):
        check_java()


def test_old_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(
        EnvironmentProblem, match=r"Java 17\+ is required, found openjdk version \"11"
    ):
        check_java()
