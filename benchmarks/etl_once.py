"""One ETL run in a fresh process (cold JVM, as a scheduled job runs), for benchmarks.run.

python -m benchmarks.etl_once ROOT    -> prints one JSON object on its last line
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core import runtimes
from spark.job import run_etl
from spark.session import build_session


def main(root: str) -> None:
    settings = runtimes.embedded(Path(root))
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
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
