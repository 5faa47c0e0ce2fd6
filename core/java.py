"""Finding Java 17: Spark, the Hive Metastore and S3Proxy all need it."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

from core.errors import EnvironmentProblem

MIN_JAVA = 17


def find_java() -> str:
    """The `java` of $JAVA_HOME, else of PATH; one actionable line when there is none."""
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise EnvironmentProblem(
            "Java 17 is required but `java` was not found (JAVA_HOME or PATH): "
            "install it, e.g. `apt-get install openjdk-17-jre-headless`"
        )
    return java


def java_version_text() -> str:
    """The path of `find_java()` and what its `-version` prints: names the JDK build."""
    java = find_java()
    return f"{java}\n{_version(java)}"


@functools.cache  # once per process: every session start asks (spark/session.py)
def _version(java: str) -> str:
    return subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr


def check_java() -> str:
    """`find_java()`, and fail when it is older than Java 17."""
    java, out = java_version_text().split("\n", 1)
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < MIN_JAVA:
        raise EnvironmentProblem(
            f"Java {MIN_JAVA}+ is required, found {out.splitlines()[0] if out else 'unknown'} "
            f"at {java}: install OpenJDK 17 and set JAVA_HOME"
        )
    return java
