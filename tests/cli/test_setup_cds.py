"""`lakehouse setup` and the CDS archive: an archive that cannot be built is one line, and
set-up goes on (runs only start slower)."""

from __future__ import annotations

import pytest

from cli import app, cds


def test_an_archive_that_cannot_be_built_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails() -> None:
        raise RuntimeError("the JVM wrote no archive to /x.partial\nmore detail")

    monkeypatch.setattr(cds, "build_archive", fails)
    app.build_cds_archive()  # does not raise
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "no class-data sharing archive (the JVM wrote no archive to /x.partial): "
        "Spark will start without it, a few seconds slower"
    ]
