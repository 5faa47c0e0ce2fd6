"""One ETL run in a fresh process (cold JVM, as a scheduled job runs), for benchmarks.run.

python -m benchmarks.etl_once ROOT [MAX_FILES_PER_BATCH]   -> one JSON object on its last line
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core import runtimes
from spark.job import run_etl
from spark.session import build_session


def main(root: str, max_files_per_batch: str | None = None) -> None:
    settings = runtimes.embedded(Path(root))
    if max_files_per_batch is not None:
        etl = settings.etl.model_copy(update={"max_files_per_batch": int(max_files_per_batch)})
        settings = settings.model_copy(update={"etl": etl})
    start = time.perf_counter()
    spark = build_session(settings)
    spark_start = time.perf_counter() - start
    etl = run_etl(settings, spark=spark)
    spark.stop()
    result = {
        "spark_start_s": spark_start,
        "etl_s": etl.seconds,
        "etl_stages": etl.stage_seconds,
        "lines_read": etl.lines_read,
        "accepted": etl.accepted,
        "batches": etl.batches,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
