"""Everything the local stack needs on disk before `up`: pinned jars, unpacked metastore,
the compiled loopback-bind override, and the machine's PostgreSQL and Java.

`prepare()` is idempotent and takes milliseconds once done (marker files), so `stack up`
calls it every time and a `lakehouse setup` step can call it ahead of time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core import jars
from core.errors import EnvironmentProblem
from core.java import find_java
from core.settings import LocalStackSettings

METASTORE_SET = "metastore"
LOOPBACK_SET = "metastore-loopback"
S3PROXY_SET = "s3proxy"
STACK_SETS = (METASTORE_SET, LOOPBACK_SET, S3PROXY_SET)

# Hive 3.1.3 binds its thrift socket to the wildcard address and has no setting to change
# it. The override replaces that one expression; the system property lets a caller choose
# the address, and the default is loopback because this class is only ever on the local
# stack's classpath (the EKS image does not use it: there a pod must be reachable).
SECURITY_UTILS = "org/apache/hadoop/hive/metastore/utils/SecurityUtils.java"
WILDCARD_BIND = "serverAddress = new InetSocketAddress(portNum);"
LOOPBACK_BIND = (
    "serverAddress = new InetSocketAddress("
    'System.getProperty("lakehouse.metastore.bind.host", "127.0.0.1"), portNum);'
)
BIND_PROPERTY = "lakehouse.metastore.bind.host"


@dataclass(frozen=True)
class Toolchain:
    """Paths the services are started from (all resolved by `prepare`)."""

    java: str
    metastore_home: Path
    metastore_jars: list[Path]  # Hadoop, AWS SDK v1, JDBC driver: added to the HMS classpath
    loopback_classes: Path
    s3proxy_jar: Path
    pg_bindir: Path
    spark_home: Path

    def metastore_classpath(self, conf_dir: Path) -> str:
        # Override first (it must shadow the original class), then config, then the pinned
        # extras (newer commons-lang3 / httpcore than the tarball's), then the tarball.
        parts = [self.loopback_classes, conf_dir, *self.metastore_jars]
        return os.pathsep.join([*map(str, parts), str(self.metastore_home / "lib" / "*")])


def unpack_dir() -> Path:
    return jars.cache_dir() / "unpacked"


def find_javac(java: str) -> str:
    javac = str(Path(java).with_name("javac"))
    if not os.path.exists(javac):
        javac = shutil.which("javac") or ""
    if not javac:
        raise EnvironmentProblem(
            "javac was not found: the local stack compiles one class once (the metastore's "
            "loopback bind) - install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`"
        )
    return javac


def find_pg_bindir() -> Path:
    """PostgreSQL server binaries: $LAKEHOUSE_PG_BINDIR, else the newest Debian install."""
    override = os.environ.get("LAKEHOUSE_PG_BINDIR")
    candidates = [Path(override)] if override else []
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
        )
        candidates += [v / "bin" for v in reversed(versions)]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise EnvironmentProblem(
        "PostgreSQL server binaries (initdb, postgres) not found: install them "
        "(Debian: `apt-get install postgresql`) or set LAKEHOUSE_PG_BINDIR to their directory"
    )


def find_spark_home() -> Path:
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").exists():
        raise EnvironmentProblem(
            f"{home}/bin/spark-class is missing: reinstall pyspark from requirements.txt "
            "(the standalone master and workers are started from the pip package)"
        )
    return home


def _artifact(coordinate_prefix: str, set_name: str) -> jars.Artifact:
    for artifact in jars.artifacts_for([set_name]):
        if artifact.coordinate.startswith(coordinate_prefix):
            return artifact
    raise EnvironmentProblem(
        f"{coordinate_prefix} is not pinned in set '{set_name}' of {jars.LOCK_FILE}"
    )


def _unpack_metastore(archive: Path) -> Path:
    target = unpack_dir() / archive.name.removesuffix(".tar.gz")
    marker = target / ".unpacked"
    if marker.exists():
        return _single_child(target)
    if target.exists():
        shutil.rmtree(target)
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(partial, filter="data")
    partial.rename(target)
    marker.touch()
    return _single_child(target)


def _single_child(directory: Path) -> Path:
    children = [p for p in directory.iterdir() if p.is_dir()]
    if len(children) != 1:
        raise EnvironmentProblem(
            f"unexpected layout in {directory}: delete it and run `lakehouse stack up` again"
        )
    return children[0]


def _compile_loopback_override(
    sources_jar: Path, java: str, classpath: str, version_tag: str
) -> Path:
    out = unpack_dir() / f"metastore-loopback-{version_tag}"
    classes = out / "classes"
    marker = out / ".compiled"
    if marker.exists():
        return classes
    shutil.rmtree(out, ignore_errors=True)
    src_dir = out / "src"
    with zipfile.ZipFile(sources_jar) as zf:
        source = zf.read(SECURITY_UTILS).decode("utf-8")
    if source.count(WILDCARD_BIND) != 2:  # getServerSocket and getServerSSLSocket
        raise EnvironmentProblem(
            f"{SECURITY_UTILS} in {sources_jar.name} does not look like Hive 3.1.3's: the "
            "loopback override cannot be applied (pin the metastore version in jars.toml)"
        )
    patched = src_dir / SECURITY_UTILS
    patched.parent.mkdir(parents=True)
    patched.write_text(source.replace(WILDCARD_BIND, LOOPBACK_BIND))
    classes.mkdir(parents=True)
    result = subprocess.run(
        # --release 8: the class must load in the same class-file version as its neighbours.
        [
            find_javac(java),
            "--release",
            "8",
            "-nowarn",
            "-d",
            str(classes),
            "-cp",
            classpath,
            str(patched),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        first = next((ln for ln in result.stderr.splitlines() if "error" in ln), result.stderr)
        raise EnvironmentProblem(f"compiling the metastore loopback override failed: {first}")
    marker.touch()
    return classes


def prepare(stack: LocalStackSettings) -> Toolchain:
    """Fetch, unpack and compile what the stack needs; fast and idempotent once done."""
    del stack  # same toolchain for every stack; kept in the signature for future settings
    java = find_java()
    for artifact in jars.artifacts_for(STACK_SETS):
        jars.fetch(artifact)
    tarball = _artifact("org.apache.hive:hive-standalone-metastore:", METASTORE_SET)
    home = _unpack_metastore(jars.cache_dir() / tarball.filename)
    extra = [
        jars.cache_dir() / a.filename
        for a in jars.artifacts_for([METASTORE_SET])
        if a.extension == "jar"
    ]
    sources = _artifact("org.apache.hive:hive-standalone-metastore:", LOOPBACK_SET)
    compile_only = [
        jars.cache_dir() / a.filename
        for a in jars.artifacts_for([LOOPBACK_SET])
        if a.extension == "jar" and a.classifier is None
    ]
    compile_cp = os.pathsep.join([*map(str, extra + compile_only), str(home / "lib" / "*")])
    classes = _compile_loopback_override(
        jars.cache_dir() / sources.filename, java, compile_cp, re.sub(r"\W", "_", sources.version)
    )
    s3proxy = _artifact("org.gaul:s3proxy:", S3PROXY_SET)
    return Toolchain(
        java=java,
        metastore_home=home,
        metastore_jars=extra,
        loopback_classes=classes,
        s3proxy_jar=jars.cache_dir() / s3proxy.filename,
        pg_bindir=find_pg_bindir(),
        spark_home=find_spark_home(),
    )
