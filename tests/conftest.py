"""Session-wide fixtures: one Spark session (embedded runtime) for every Spark test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def conformance_cases() -> list[dict[str, Any]]:
    """The 26 parser decisions of tests/data/combined-cases.jsonl."""
    path = TESTDATA / "combined-cases.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def spark_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="session")
def spark(spark_root: Path) -> Iterator[Any]:
    """One embedded-runtime Spark session for the whole run (start-up costs ~8 s)."""
    from core import runtimes
    from spark.session import build_session

    session = build_session(runtimes.embedded(spark_root))
    yield session
    session.stop()


@pytest.fixture
def warehouse(spark: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """Fresh embedded settings (own directory and catalog name) attached to the session."""
    import re

    from core import runtimes
    from core.settings import CatalogSettings
    from spark.session import attach_catalog

    base = runtimes.embedded(tmp_path)
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:40].lower()
    settings = base.model_copy(
        update={"catalog": CatalogSettings(kind=base.catalog.kind, uri=base.catalog.uri, name=name)}
    )
    attach_catalog(spark, settings)
    return settings
