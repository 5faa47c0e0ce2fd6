"""Which read errors skip a file (it is corrupt) and which fail the run (a service is gone)."""

from __future__ import annotations

from spark.inputs import InputFile
from spark.job import unreadable_file

FILES = [
    InputFile("file:/in/nginx/dt=2024-10-07/hour=00/a.log.gz", 10, 0),
    InputFile("s3a://input/nginx/dt=2024-10-07/hour=01/b.log.gz", 10, 0),
]


def _spark_error(uri: str, cause: str) -> Exception:
    return Exception(
        "An error occurred while calling o123.parquet.\n"
        f"[FAILED_READ_FILE.NO_HINT] Encountered error while reading file {uri}. SQLSTATE: KD001\n"
        f"Caused by: {cause}"
    )


def test_a_corrupt_gzip_names_its_file() -> None:
    exc = _spark_error("file:///in/nginx/dt=2024-10-07/hour=00/a.log.gz", "java.io.EOFException")
    assert unreadable_file(exc, FILES) == FILES[0]


def test_a_lost_object_store_is_not_a_corrupt_file() -> None:
    exc = _spark_error(
        "s3a://input/nginx/dt=2024-10-07/hour=01/b.log.gz",
        "software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP "
        "request: Connect to 127.0.0.1:19000 failed: Connection refused",
    )
    assert unreadable_file(exc, FILES) is None


def test_an_error_about_another_file_or_no_file() -> None:
    assert (
        unreadable_file(_spark_error("file:/elsewhere.gz", "java.io.EOFException"), FILES) is None
    )
    assert unreadable_file(Exception("Job aborted"), FILES) is None
