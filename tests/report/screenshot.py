"""Remake docs/report-page.png: `python -m tests.report.screenshot docs/report-page.png`.

60,000 generated lines in the `timed` log format (so the latency sections show) over 10
days spanning two ISO weeks; a run that fails on a mistyped input path, the days ingested
in two batches, then a re-run with nothing new: every kind of run the history shows. The
page is opened in the browser harness the tests use (headless Chromium, offline).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import suppress
from datetime import date
from pathlib import Path

from core import runtimes
from core.errors import InputError
from generator import TrafficSpec, generate
from report_page import write_report_page
from spark.job import run_etl
from spark.session import build_session
from tests.report.browser import open_page

SPEC = TrafficSpec(start=date(2024, 9, 30), days=10, lines=60_000, seed=7, log_format="timed")
FIRST_BATCH_DAYS = 6


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = runtimes.embedded(root / "lakehouse")
        settings = base.model_copy(
            update={"etl": base.etl.model_copy(update={"log_format": SPEC.log_format})}
        )
        staging = root / "staging"
        generate(SPEC, staging.as_uri())
        spark = build_session(settings)
        try:
            with suppress(InputError):  # the failed run the history is meant to show
                run_etl(settings, spark=spark, source_uri=(root / "inptu").as_uri())
            inputs = Path(settings.storage.input_uri.removeprefix("file://"))
            days = sorted(p for p in staging.rglob("dt=*") if p.is_dir())
            for batch in (days[:FIRST_BATCH_DAYS], days[FIRST_BATCH_DAYS:]):
                for day in batch:
                    target = inputs / day.relative_to(staging)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(day, target)
                run_etl(settings, spark=spark)
            run_etl(settings, spark=spark)  # nothing new
        finally:
            spark.stop()
        page = write_report_page(settings, root / "report.html")
        with open_page(page, root / "profile") as visit:
            visit.page.screenshot(path=str(out), full_page=True)
        if visit.console_errors:
            raise SystemExit(f"the page logged errors: {visit.console_errors}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
