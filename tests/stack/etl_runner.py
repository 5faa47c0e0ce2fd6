"""Run the ETL against a local stack in its own process and print the result as JSON.

A separate process because a JVM holds one SparkContext: in a full pytest run the
embedded-runtime session of tests/spark may already exist in the test process.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from core.config import load_stack_settings
from core.runtimes import local_stack
from spark.job import run_etl

MARKER = "ETL_RESULT "


def main(config_file: str) -> None:
    settings = local_stack(load_stack_settings(Path(config_file)))
    result = run_etl(settings)
    payload = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    print(MARKER + json.dumps(payload, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
