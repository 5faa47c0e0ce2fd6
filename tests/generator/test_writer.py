"""Writer details: the S3 branch (with a stand-in filesystem), worker counts."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from core.settings import S3Settings
from generator import TrafficSpec, generate, writer
from tests.generator import reference

SPEC = TrafficSpec(start=dt.date(2024, 10, 7), days=1, lines=2_000, seed=4)


class _Stream(io.BytesIO):
    def __init__(self, store: dict[str, bytes], path: str) -> None:
        super().__init__()
        self.store, self.path = store, path

    def close(self) -> None:
        self.store[self.path] = self.getvalue()
        super().close()


class FakeS3:
    """What the writer uses of pyarrow.fs.S3FileSystem: open_output_stream."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.calls: list[dict[str, Any]] = []

    def open_output_stream(self, path: str, compression: Any = "detect") -> _Stream:
        self.calls.append({"path": path, "compression": compression})
        return _Stream(self.objects, path)


def test_s3_destination_writes_whole_objects_under_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeS3()
    monkeypatch.setattr(writer._Sink, "_s3", lambda self: fake)
    result = generate(SPEC, "s3://input-bucket/raw", s3=S3Settings(), workers=1)
    assert result.files == [f"s3://{path}" for path in sorted(fake.objects)]
    assert all(call["compression"] is None for call in fake.calls)  # no double gzip
    local = generate(SPEC, str(tmp_path), workers=1)
    for uri, path in zip(result.files, local.files, strict=True):
        key = uri.removeprefix("s3://input-bucket/raw/")
        assert path.endswith(key)
        assert fake.objects[uri.removeprefix("s3://")] == Path(path).read_bytes()
    lines = gzip.decompress(next(iter(fake.objects.values()))).decode().splitlines()
    assert all(reference.parse(line) for line in lines)


def test_s3_write_failure_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import InputError

    class Refusing:
        def open_output_stream(self, path: str, compression: Any = None) -> Any:
            raise OSError("AWS Error ACCESS_DENIED during PutObject")

    monkeypatch.setattr(writer._Sink, "_s3", lambda self: Refusing())
    with pytest.raises(InputError, match=r"cannot write s3://b/nginx/dt=.*ACCESS_DENIED"):
        generate(SPEC, "s3://b", workers=1)


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [("max 100000\n", None), ("50000 100000\n", 1), ("150000 100000\n", 2), ("garbage", None)],
)
def test_available_cpus_honours_a_cgroup_quota(
    tmp_path: Path, cpu_max: str, expected: int | None
) -> None:
    import os

    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)
    affinity = len(os.sched_getaffinity(0))
    want = affinity if expected is None else min(affinity, expected)
    assert writer.available_cpus(path) == want
    assert writer.available_cpus(tmp_path / "missing") == affinity


def test_default_workers_scale_with_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "available_cpus", lambda: 8)
    assert writer._worker_count(None, 10_000) == 1
    assert writer._worker_count(None, 450_000) == 2
    assert writer._worker_count(None, 50_000_000) == 8
    assert writer._worker_count(3, 10) == 3  # an explicit count is honoured


def test_a_worker_failure_surfaces_as_the_same_error(tmp_path: Path) -> None:
    from core.errors import InputError

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot write"):
        generate(SPEC, str(blocker / "out"), workers=2)
