"""Write the planned files: gzip, destinations (local, file://, s3://), process pool.

Compression: gzip level 1. On these lines it gives a 5.6x ratio against 6.1x at level 3
and 7.5x at level 6, and costs ~1.5 µs per line against ~2.8 and ~7: above level 1,
compression would be most of the generator's time, for input files a few % smaller.
The gzip header carries no file name and mtime 0, so equal lines give equal bytes.

Destinations:
- a plain path or a `file:` URI: each file is written to a hidden temporary name in its
  hour directory and renamed, so a reader never sees half a file (a killed run leaves at
  most a dot-file, which Spark and the ETL's input listing skip);
- `s3://bucket/prefix` (or `s3a://`): pyarrow's S3FileSystem, configured from
  `S3Settings` (endpoint, region, path style, static keys if given, else the default AWS
  credential chain: IRSA on EKS). Each file is compressed in memory and uploaded in one
  go, so a failure never leaves a partial object.

Parallelism: one task per file on a `spawn` process pool. Workers rebuild the model
from the seed (~0.6 s at 1M lines, in parallel) rather than inherit it by fork: fork is
unsafe once the parent has threads (the main CLI runs a progress bar thread), and AWS SDK
state must not be shared with a child.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import time
import zlib
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

from core.errors import ConfigError, EnvironmentProblem, InputError
from generator.model import model_for
from generator.render import render
from generator.traffic import FilePlan, TrafficSpec, plan_files

if TYPE_CHECKING:  # pydantic costs ~0.5 s to import; workers writing locally never need it
    from core.settings import S3Settings

GZIP_LEVEL = 1
_GZIP_WBITS = 31  # zlib container = gzip: no name, mtime 0, deterministic header


@dataclass(frozen=True)
class GenerateResult:
    files: list[str]  # URIs/paths written, in time order
    lines: int
    bytes_compressed: int
    bytes_raw: int
    seconds: float


@dataclass(frozen=True)
class Destination:
    """Where the raw layout starts: a local directory or an S3 bucket and key prefix."""

    scheme: str  # "local", "file" or "s3"
    root: str  # local: absolute directory; s3: "bucket/prefix" (no trailing slash)
    original: str

    def uri(self, relative: str) -> str:
        """How a written file is reported: in the same form as the destination given."""
        if self.scheme == "s3":
            scheme = urlsplit(self.original).scheme
            return f"{scheme}://{self.root}/{relative}"
        path = os.path.join(self.root, relative)
        # file://<abs path>, not Path.as_uri(): percent-encoding `=` as %3D would hide the
        # dt=/hour= partition names, and the project writes its file URIs this way too.
        return f"file://{path}" if self.scheme == "file" else path


def parse_destination(destination: str) -> Destination:
    if not isinstance(destination, str) or not destination.strip():
        raise ConfigError("generator: destination is empty (a directory, file:// or s3:// URI)")
    parts = urlsplit(destination)
    if parts.scheme in ("s3", "s3a"):
        bucket = parts.netloc
        if not bucket:
            raise ConfigError(f"generator: destination {destination!r} names no bucket")
        prefix = parts.path.strip("/")
        return Destination("s3", f"{bucket}/{prefix}" if prefix else bucket, destination)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(
                f"generator: destination {destination!r}: file URIs must be "
                "local (file:///abs/path)"
            )
        return Destination("file", os.path.abspath(unquote(parts.path)), destination)
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter scheme is a Windows drive
        raise ConfigError(
            f"generator: destination {destination!r}: unsupported scheme "
            f"{parts.scheme!r} (use a directory, file:// or s3://)"
        )
    return Destination("local", os.path.abspath(destination), destination)


def s3_filesystem_options(s3: S3Settings | None) -> dict[str, Any]:
    """Keyword arguments for pyarrow.fs.S3FileSystem from the project's S3 settings."""
    if s3 is None:
        return {}
    options: dict[str, Any] = {"region": s3.region}
    if s3.endpoint:
        endpoint = urlsplit(s3.endpoint)
        options["endpoint_override"] = endpoint.netloc or endpoint.path
        options["scheme"] = endpoint.scheme or "https"
        # pyarrow uses path-style requests whenever an endpoint is set, unless told not to.
        options["force_virtual_addressing"] = not s3.path_style
    if s3.access_key is not None and s3.secret_key is not None:
        options["access_key"] = s3.access_key.get_secret_value()
        options["secret_key"] = s3.secret_key.get_secret_value()
    return options


class _Sink:
    """Writes whole files to one destination; the S3 client is created on first use."""

    def __init__(self, dest: Destination, s3: S3Settings | None) -> None:
        self.dest = dest
        self.s3 = s3
        self._fs: Any = None

    def write(self, relative: str, produce: Callable[[BinaryIO], None]) -> None:
        if self.dest.scheme == "s3":
            buffer = io.BytesIO()
            produce(buffer)
            with self._s3().open_output_stream(
                f"{self.dest.root}/{relative}", compression=None
            ) as out:
                out.write(buffer.getbuffer())
            return
        final = os.path.join(self.dest.root, relative)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        temporary = os.path.join(
            os.path.dirname(final), f".{os.path.basename(final)}.{os.getpid()}.tmp"
        )
        try:
            with open(temporary, "wb") as out:
                produce(out)
            os.replace(temporary, final)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def _s3(self) -> Any:
        if self._fs is None:
            from pyarrow import fs  # only S3 destinations pay for importing pyarrow

            self._fs = fs.S3FileSystem(**s3_filesystem_options(self.s3))
        return self._fs


@dataclass(frozen=True)
class _Job:
    """What every task of a run shares (pickled once per task: it is small)."""

    spec: TrafficSpec
    dest: Destination
    s3: S3Settings | None


@dataclass(frozen=True)
class _Written:
    uri: str
    lines: int
    bytes_raw: int
    bytes_compressed: int


_SINKS: dict[Destination, _Sink] = {}  # per process: reuse the S3 client across files


def _write_file(job: _Job, plan: FilePlan) -> _Written:
    """Render, compress and store one file. Runs in a worker process (or inline)."""
    model = model_for(job.spec.seed, job.spec.lines, job.spec.log_format)
    sink = _SINKS.get(job.dest)
    if sink is None or sink.s3 is not job.s3:
        sink = _SINKS[job.dest] = _Sink(job.dest, job.s3)
    sizes = [0, 0]

    def produce(out: BinaryIO) -> None:
        gz = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        for piece in render(model, plan, job.spec.seed, job.spec.utc_offset_minutes):
            sizes[0] += len(piece)
            packed = gz.compress(piece)
            sizes[1] += len(packed)
            out.write(packed)
        packed = gz.flush()
        sizes[1] += len(packed)
        out.write(packed)

    uri = job.dest.uri(plan.relative_path)
    try:
        sink.write(plan.relative_path, produce)
    except OSError as exc:  # pyarrow's S3 errors are OSErrors too
        raise InputError(f"generator: cannot write {uri}: {exc}") from None
    return _Written(uri, plan.lines, sizes[0], sizes[1])


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: os.cpu_count(), narrowed by the affinity mask and by a
    cgroup v2 CPU quota. In a pod limited to 500m, os.cpu_count() is the node's count,
    and as many workers would only contend for half a core (and multiply memory)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        count = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return count


# A worker costs ~0.6 s to start (interpreter, imports, model) before it writes a line:
# about what it renders in 150k lines. By default, no more workers than that pays for.
LINES_PER_DEFAULT_WORKER = 200_000
# Inline runs keep small models cached (a few MB): repeated small runs skip the rebuild.
KEEP_MODEL_BELOW_LINES = 1_000_000


def _worker_count(workers: int | None, lines: int) -> int:
    if workers is None:
        return max(1, min(available_cpus(), lines // LINES_PER_DEFAULT_WORKER))
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"generator: workers must be a positive integer (got {workers!r})")
    return workers


def generate(
    spec: TrafficSpec,
    destination: str,
    *,
    s3: S3Settings | None = None,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> GenerateResult:
    """Write `spec.lines` nginx lines as gzip files in the raw layout under `destination`.

    `workers`: processes; by default the CPUs available, but no more than one per
    LINES_PER_DEFAULT_WORKER lines. Workers are spawned, so (as with any spawn pool) a
    script calling this with workers > 1 must guard its top level with
    `if __name__ == "__main__":`. `on_progress` is called with the number of lines of
    each file as it is finished. Hours that get no lines (tiny runs) produce no file.
    Raises ConfigError for a bad spec or destination, InputError if a file can't be
    written.
    """
    started = time.perf_counter()
    if not isinstance(spec, TrafficSpec):
        raise ConfigError(f"generator: spec must be a TrafficSpec (got {type(spec).__name__})")
    job = _Job(spec, parse_destination(destination), s3)
    count = _worker_count(workers, spec.lines)
    plans = [plan for plan in plan_files(spec) if plan.lines > 0]
    written: list[_Written | None] = [None] * len(plans)

    def done(index: int, result: _Written) -> None:
        written[index] = result
        if on_progress is not None:
            on_progress(result.lines)

    if count == 1 or len(plans) <= 1:
        try:
            for index, plan in enumerate(plans):
                done(index, _write_file(job, plan))
        finally:
            _SINKS.clear()
            if spec.lines >= KEEP_MODEL_BELOW_LINES:
                model_for.cache_clear()  # ~100 MB at 10M lines: not worth keeping
    else:
        _run_pool(job, plans, min(count, len(plans)), done)

    results = [w for w in written if w is not None]
    return GenerateResult(
        files=[w.uri for w in results],
        lines=sum(w.lines for w in results),
        bytes_compressed=sum(w.bytes_compressed for w in results),
        bytes_raw=sum(w.bytes_raw for w in results),
        seconds=time.perf_counter() - started,
    )


def _run_pool(
    job: _Job, plans: list[FilePlan], workers: int, done: Callable[[int, _Written], None]
) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # Largest files first: the pool finishes together instead of on one straggler.
        order = sorted(range(len(plans)), key=lambda i: -plans[i].lines)
        pending: dict[Future[_Written], int] = {
            pool.submit(_write_file, job, plans[i]): i for i in order
        }
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    done(pending.pop(future), future.result())
        except BrokenProcessPool:
            pool.shutdown(wait=True, cancel_futures=True)
            raise EnvironmentProblem(
                f"generator: a worker process died (out of memory?); {workers} workers "
                "were running: retry with fewer"
            ) from None
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
