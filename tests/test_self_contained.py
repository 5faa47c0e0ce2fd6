"""The repository stands alone: nothing in it names a path outside it, and the tests that
read its data files pass in a bare copy of the tracked files (docs/architecture.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# What a reference to something beside the clone looks like. Each pattern is written so
# that its own source text does not match it (`[k]`, `\.`), so this file can be scanned too.
OUTSIDE = re.compile(
    r"\.\./shared"  # a sibling folder of the clone
    r"|(?<![\w.~-])/wor[k]/"  # the machine this was first built on
    r"|DESIGN\.md"  # a design note that never was in the repository
    r"|(?<![\w.~-])(?:/home/[\w.-]+/|/Users/[\w.-]+/|/roo[t]/)"  # someone's home directory
)

# Tests that read the repository's data files (conformance cases, Dockerfiles, jar pins,
# Pulumi project files) and need neither Spark, nor the local stack, nor a browser.
DATA_READERS = (
    "tests/generator/test_lines.py",  # conformance cases via the reference reader
    "tests/generator/test_distributions.py",  # generated traffic via the reference reader
    "tests/generator/test_dockerfile.py",
    "tests/workloads/test_dockerfiles.py",  # Dockerfiles against core/jars.toml
    "tests/workloads/test_image_scripts.py",  # the metastore image's shell scripts
    "tests/infra/test_config.py",  # Pulumi.yaml and the stack files
)

# Runs pytest, then fails if a project module was imported from anywhere but the copy
# (an editable install of the project would otherwise hide a missing file).
RUN_IN_COPY = """
import sys
from pathlib import Path

import pytest

copy, packages, args = Path.cwd().resolve(), set(sys.argv[1].split(",")), sys.argv[2:]
code = pytest.main(args)
strays = sorted(
    f"{name}: {module.__file__}"
    for name, module in list(sys.modules.items())
    if name.split(".")[0] in packages
    and getattr(module, "__file__", None)
    and not Path(module.__file__).resolve().is_relative_to(copy)
)
if strays:
    print("imported from outside the copy:", *strays, sep="\\n  ")
    sys.exit(3)
sys.exit(code)
"""


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("needs git and a git checkout: the tracked files are what a clone gets")
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [name for name in listing.decode().split("\0") if name]


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    found = []
    for name in tracked_files():
        try:
            text = (REPO / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_the_patterns_catch_what_they_are_for() -> None:
    # Split literals: the scan above reads this file too.
    for line in (
        "cases = Path('../sha" + "red/testdata')",
        "see /wor" + "k/shared/notes.txt",
        "(DESIGN" + ".md, Placement)",
        "cache = '/ho" + "me/alice/.cache'",
        "open('/roo" + "t/secrets')",
    ):
        assert OUTSIDE.search(line), line
    for line in ("docs/architecture.md", "~/.kube/config", "/tmp/work/x", "shared_buffers=32MB"):
        assert not OUTSIDE.search(line), line


def test_a_bare_copy_of_the_tracked_files_passes_the_tests_that_read_them(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "clone"
    for name in tracked_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    packages = sorted(p.parent.name for p in copy.glob("*/__init__.py"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    }
    env["PYTHONPATH"] = str(copy)
    marks = "not slow and not spark and not stack and not browser"
    pytest_args = ["-q", "-p", "no:cacheprovider", "-m", marks, *DATA_READERS]
    result = subprocess.run(
        [sys.executable, "-c", RUN_IN_COPY, ",".join(packages), *pytest_args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " skipped" not in result.stdout, result.stdout[-2000:]
