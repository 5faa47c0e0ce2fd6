"""Pinned Maven Central artifacts: download once, verify SHA-1, cache in `.cache/jars`.

Plain HTTP GETs of the Maven-2 layout are ~15x faster than `mvn dependency:copy` and avoid
Ivy resolution on every Spark start (docs/decisions/0003).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, EnvironmentProblem

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
LOCK_FILE = Path(__file__).with_name("jars.toml")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    sha1: str
    sets: tuple[str, ...]
    classifier: str | None = None
    extension: str = "jar"

    @classmethod
    def parse(cls, coordinate: str, sha1: str, sets: Iterable[str]) -> Artifact:
        """`group:artifact:version` or `group:artifact:version:extension:classifier`."""
        parts = coordinate.split(":")
        if len(parts) == 3:
            return cls(*parts, sha1=sha1, sets=tuple(sets))
        if len(parts) == 5:
            group, artifact, version, extension, classifier = parts
            return cls(group, artifact, version, sha1, tuple(sets), classifier, extension)
        raise ValueError(f"bad Maven coordinate {coordinate!r}")

    @property
    def coordinate(self) -> str:
        base = f"{self.group}:{self.artifact}:{self.version}"
        return f"{base}:{self.extension}:{self.classifier}" if self.classifier else base

    @property
    def filename(self) -> str:
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.{self.extension}"

    @property
    def url(self) -> str:
        group_path = self.group.replace(".", "/")
        return f"{MAVEN_CENTRAL}/{group_path}/{self.artifact}/{self.version}/{self.filename}"


def load_lock(path: Path = LOCK_FILE) -> list[Artifact]:
    data = tomllib.loads(path.read_text())
    return [Artifact.parse(a["coordinate"], a["sha1"], a["sets"]) for a in data["artifact"]]


def cache_dir() -> Path:
    return Path(os.environ.get("LAKEHOUSE_JAR_CACHE", REPO_ROOT / ".cache" / "jars"))


def artifacts_for(sets: Iterable[str], lock: list[Artifact] | None = None) -> list[Artifact]:
    wanted = set(sets)
    artifacts = lock or load_lock()
    known = {name for a in artifacts for name in a.sets}
    if unknown := sorted(wanted - known):
        raise ConfigError(
            f"unknown jar set {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(sorted(known))} (core/jars.toml)"
        )
    return [a for a in artifacts if wanted.intersection(a.sets)]


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    artifact: Artifact,
    directory: Path | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Return the cached file, downloading and verifying it first if needed."""
    directory = directory or cache_dir()
    target = directory / artifact.filename
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with (
            urllib.request.urlopen(artifact.url, timeout=60) as response,
            partial.open("wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            while chunk := response.read(1 << 20):
                out.write(chunk)
                if on_progress:
                    on_progress(len(chunk), total)
    except (urllib.error.URLError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        raise EnvironmentProblem(
            f"cannot download {artifact.coordinate} from {artifact.url}: {exc} "
            "(check network access to Maven Central, or pre-fill LAKEHOUSE_JAR_CACHE)"
        ) from None
    actual = _sha1(partial)
    if actual != artifact.sha1:
        partial.unlink(missing_ok=True)
        raise EnvironmentProblem(
            f"checksum mismatch for {artifact.coordinate}: expected {artifact.sha1}, got {actual}"
        )
    partial.rename(target)
    return target


def require(sets: Iterable[str]) -> list[Path]:
    """Paths of the cached jars of these sets; a clear error if `setup` was not run."""
    paths = []
    for artifact in artifacts_for(sets):
        path = cache_dir() / artifact.filename
        if not path.exists():
            raise EnvironmentProblem(
                f"jar {artifact.filename} is not in {cache_dir()}: run `make setup` "
                "(or `lakehouse setup`) to download the pinned jars"
            )
        paths.append(path)
    return paths
