"""Run one ETL in a child process, printing each stage as it starts (the test kills it)."""

from __future__ import annotations

import sys
from pathlib import Path

from core import runtimes
from spark.job import run_etl


def main(root: str, top_n: str, max_files_per_batch: str | None = None) -> None:
    base = runtimes.embedded(Path(root))
    etl = {"top_n": int(top_n)}
    if max_files_per_batch is not None:
        etl["max_files_per_batch"] = int(max_files_per_batch)
    settings = base.model_copy(update={"etl": base.etl.model_copy(update=etl)})
    result = run_etl(settings, progress=lambda stage: print(f"STAGE {stage}", flush=True))
    print(f"DONE {result.outcome} {result.accepted} {result.rejected}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
