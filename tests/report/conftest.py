"""One ingested warehouse for every report test: hand-made logs, three ETL runs.

The runs cover the three outcomes the history must show: a run that ingests everything,
a re-run with nothing new, and a run that fails (its input location does not exist).
Built once per package: an ETL run on the shared Spark session takes tens of seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError
from tests.report import logs

START = date(2024, 10, 5)  # a Saturday: four days span two ISO weeks
DAYS = 4
CATALOG = "t_report"


@dataclass(frozen=True)
class Scenario:
    settings: Any
    requests: list[logs.Request]
    rejected: list[tuple[str, str]]  # (line, reason)
    files: list[Path]
    page: Path

    @property
    def latest_day(self) -> date:
        return max(r.day for r in self.requests)


@pytest.fixture(scope="package")
def scenario(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    from core import runtimes
    from core.settings import CatalogSettings
    from report_page import write_report_page
    from spark.job import run_etl
    from spark.session import attach_catalog

    root = tmp_path_factory.mktemp("report")
    base = runtimes.embedded(root)
    settings = base.model_copy(
        update={
            "catalog": CatalogSettings(kind=base.catalog.kind, uri=base.catalog.uri, name=CATALOG)
        }
    )
    attach_catalog(spark, settings)

    requests = logs.make_requests(START, DAYS, per_day=500, seed=11)
    rejected = logs.rejected_cases()
    input_dir = Path(settings.storage.input_uri.removeprefix("file://"))
    files = logs.write_logs(input_dir, requests, [line for line, _ in rejected])

    first = run_etl(settings, spark=spark)
    assert first.outcome == "succeeded", first.error
    assert run_etl(settings, spark=spark).outcome == "nothing-to-do"
    with pytest.raises(InputError):
        run_etl(settings, spark=spark, source_uri=(root / "no-such-dir").as_uri())

    page = write_report_page(settings, root / "site" / "report.html")
    yield Scenario(settings, requests, rejected, files, page)
