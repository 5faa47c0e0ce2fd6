"""generator/Dockerfile, checked statically (no Docker engine here)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "generator" / "Dockerfile"


def _instructions() -> list[dict[str, str]]:
    parser = DockerfileParser(fileobj=DOCKERFILE.open("rb"))
    return parser.structure


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


def test_base_image_is_an_exact_python_311_slim_tag_with_digest() -> None:
    parser = DockerfileParser(fileobj=DOCKERFILE.open("rb"))
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", parser.baseimage)


def test_runs_python_dash_m_generator_as_a_numeric_non_root_user() -> None:
    users = [i["value"] for i in _instructions() if i["instruction"] == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1])
    entrypoints = [i for i in _instructions() if i["instruction"] == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    assert entrypoints[0]["value"] == '["python", "-m", "generator"]'
    # The user is set after every RUN: nothing runs as root at run time.
    kinds = [i["instruction"] for i in _instructions()]
    assert max(i for i, k in enumerate(kinds) if k == "RUN") < kinds.index("USER")


def test_uid_matches_the_pod_security_context() -> None:
    from workloads import contract

    users = [i["value"] for i in _instructions() if i["instruction"] == "USER"]
    assert users[-1].split(":")[0] == str(contract.GENERATOR_UID)


def test_copies_only_files_that_exist_and_installs_only_its_requirements() -> None:
    for instruction in _instructions():
        if instruction["instruction"] == "COPY":
            *sources, _ = instruction["value"].split()
            for source in sources:
                assert list(REPO.glob(source)), f"COPY source missing: {source}"
    installs = [
        i["value"]
        for i in _instructions()
        if i["instruction"] == "RUN" and "pip install" in i["value"]
    ]
    # Only the generator's pins: not the project (Spark, Pulumi) nor its requirements.txt.
    assert installs == ["pip install --no-cache-dir -r generator/requirements.txt"]


def test_requirements_are_exact_pins_matching_the_project_and_the_venv() -> None:
    ours = _pins(REPO / "generator" / "requirements.txt")
    assert {"pyarrow", "pydantic"} <= ours.keys()
    project = _pins(REPO / "requirements.txt")
    for name, version in ours.items():
        if name in project:
            assert project[name] == version, name
        assert importlib.metadata.version(name) == version, name


def test_the_code_the_image_copies_is_all_the_generator_imports() -> None:
    """Every `lakehouse.*` module the generator imports is copied into the image."""
    copied = {
        Path(s).stem
        for i in _instructions()
        if i["instruction"] == "COPY"
        for s in i["value"].split()[:-1]
        if s.startswith("lakehouse/")
    }
    imported = set()
    for source in (REPO / "generator").glob("*.py"):
        imported |= set(re.findall(r"from lakehouse\.(\w+) import", source.read_text()))
    assert imported <= copied
