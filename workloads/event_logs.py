"""Spark's event-log directory on S3 must exist before a driver or the History Server starts.

Both fail at start with FileNotFoundException when `spark.eventLog.dir` /
`spark.history.fs.logDirectory` is missing (checked with Spark 4.1.4), and on S3 a "directory"
exists only while an object is under it. So:
- `pulumi up` creates it (infra/storage.py: an empty `spark-events/` marker object, which
  S3A reads as a directory, kept out of the expiry rule) before the History Server, which
  Pulumi waits for, starts: nothing Pulumi awaits depends on a later job;
- the ETL job's init container re-creates it before every run, should it have been deleted,
  with the ETL's role, which may write there;
- the History Server's init container, whose role only reads, waits while it is missing
  (someone deleted it) instead of crash-looping.

Both use pyarrow from the Spark image (pyiceberg[pyarrow]); its S3 client follows the same
default credential chain (IRSA web identity) as everything else.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from core.settings import Settings
from workloads import sizing
from workloads.objects import TMP, container, env, resources

# argv[1]: the event-log URI. pyarrow knows s3://, not Hadoop's s3a://; a file:// URI works
# too, which is how the tests run these snippets.
_OPEN = (
    "import sys, time\n"
    "import pyarrow.fs as pafs\n"
    "uri = sys.argv[1]\n"
    "fs, path = pafs.FileSystem.from_uri(uri.replace('s3a://', 's3://', 1))\n"
)
ENSURE_SCRIPT = _OPEN + "fs.create_dir(path, recursive=True)\nprint('event-log directory:', uri)\n"
WAIT_SCRIPT = _OPEN + (
    "while fs.get_file_info(path).type == pafs.FileType.NotFound:\n"
    "    print('waiting for the first ETL run or pulumi up to create', uri, flush=True)\n"
    "    time.sleep(int(sys.argv[2]) if len(sys.argv) > 2 else 30)\n"
)


def _init_container(
    name: str, script: str, image: pulumi.Input[str], settings: pulumi.Output[Settings]
) -> k8s.core.v1.ContainerArgs:
    return container(
        name=name,
        image=image,
        command=["python", "-c", script],
        args=settings.apply(lambda s: [s.spark.event_log_dir or ""]),
        env=env({"HOME": TMP.path}),
        mounts=[TMP.mount()],
        resources=resources(sizing.EVENT_LOG_INIT.millicores, sizing.EVENT_LOG_INIT.memory_mib),
    )


def create_directory(
    image: pulumi.Input[str], settings: pulumi.Output[Settings]
) -> k8s.core.v1.ContainerArgs:
    return _init_container("event-log-dir", ENSURE_SCRIPT, image, settings)


def wait_for_directory(
    image: pulumi.Input[str], settings: pulumi.Output[Settings]
) -> k8s.core.v1.ContainerArgs:
    return _init_container("wait-for-event-log-dir", WAIT_SCRIPT, image, settings)
